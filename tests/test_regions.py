"""Motion regions: boxes where something moves, and the region score of a model's error map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from vad.data.regions import motion_boxes, region_settings, video_boxes
from vad.errors import DataError
from vad.models.region_scores import box_errors, log_box_errors, region_z
from vad.tasks.train import train

SETTINGS = region_settings()


def _scene(t: int, squares: list[tuple[int, int]] = ()) -> np.ndarray:
    """A static textured 120 x 160 frame with textured 16 x 16 squares at (row, column)."""
    rng = np.random.default_rng(0)
    frame = (rng.random((120, 160)) * 40 + 60).astype(np.uint8)
    texture = (np.random.default_rng(1).random((16, 16)) * 100 + 150).astype(np.uint8)
    for row, col in squares:
        frame[row : row + 16, col : col + 16] = texture
    return frame


def test_a_moving_square_gives_one_box_around_it() -> None:
    frames = [_scene(t, [(50, 40 + 4 * t)]) for t in range(3)]
    boxes = motion_boxes(*frames, SETTINGS)
    assert boxes.shape == (1, 4)
    x0, y0, x1, y1 = boxes[0]
    # the square at t = 1 spans columns 44-59 and rows 50-65; the motion area spans t-1..t+1
    assert x0 <= 44 and x1 >= 60 and x0 >= 40 - 3 and x1 <= 64 + 3
    assert y0 <= 50 and y1 >= 66 and y0 >= 47 and y1 <= 69


def test_a_static_scene_has_no_box() -> None:
    frames = [_scene(t, [(50, 40)]) for t in range(3)]
    assert motion_boxes(*frames, SETTINGS).shape == (0, 4)


def test_boxes_per_frame_are_fractions_and_skip_frames_without_neighbours() -> None:
    frames = [_scene(t, [(50, 40 + 4 * t)]) for t in range(5)]
    boxes = video_boxes(frames, SETTINGS)
    assert boxes.shape == (5, SETTINGS["max_boxes"], 4)
    assert np.isnan(boxes[0]).all() and np.isnan(boxes[4]).all()  # run ends: no neighbour
    found = boxes[2][np.isfinite(boxes[2]).all(axis=1)]
    assert len(found) == 1 and (found >= 0).all() and (found <= 1).all()
    frames[3] = None  # a frame the source lacks
    assert np.isnan(video_boxes(frames, SETTINGS)[2]).all()


def test_bad_settings_name_the_key() -> None:
    with pytest.raises(DataError, match=r"data\.regions"):
        region_settings({"blur": 4})
    with pytest.raises(DataError, match=r"data\.regions"):
        region_settings({"treshold": 10})


def test_box_errors_are_the_mean_of_the_map_inside_each_box() -> None:
    maps = torch.rand(2, 8, 10, generator=torch.Generator().manual_seed(0))
    boxes = torch.tensor(
        [[[0.1, 0.25, 0.55, 0.75], [float("nan")] * 4], [[0, 0, 1, 1], [0.95] * 4]]
    )
    errors = box_errors(maps, boxes)
    # float32 box sums from differences of running sums that reach ~40 (80 values < 1): a few
    # ulps of 40 (~1e-5 absolute) on means of ~0.5, so 1e-4 relative; a wrong box is off by >1e-2
    tolerance = {"rel": 1e-4}
    assert errors[0, 0] == pytest.approx(maps[0, 2:6, 1:6].mean().item(), **tolerance)
    assert torch.isnan(errors[0, 1])
    assert errors[1, 0] == pytest.approx(maps[1].mean().item(), **tolerance)
    assert errors[1, 1] == pytest.approx(maps[1, 7, 9].item(), **tolerance)  # at least one pixel


def test_a_frame_with_a_fast_object_scores_above_its_normal_neighbours() -> None:
    generator = torch.Generator().manual_seed(0)
    box = torch.tensor([[[0.4, 0.4, 0.6, 0.6]]])
    normal = [torch.rand(1, 20, 20, generator=generator) * 0.01 for _ in range(30)]
    logs = torch.cat([log_box_errors(m, box) for m in normal])  # validation boxes
    mean, std = logs.mean(), logs.std()
    fast = normal[0].clone()
    fast[0, 8:12, 8:12] += 0.5  # the object is not where the predictor put it
    frames = torch.cat([normal[1], fast, normal[2]])
    scores = region_z(frames, box.expand(3, 1, 4), mean, std)
    assert scores[1] > scores[0] + 3 and scores[1] > scores[2] + 3
    empty = region_z(frames[:1], torch.full((1, 2, 4), float("nan")), mean, std)
    assert empty < scores.min()  # no box: the lowest score


@pytest.mark.slow
def test_train_and_score_with_region_scores(make_cfg) -> None:
    cfg = make_cfg(
        "train",
        ["model.regions=true", "data.regions.min_area=4", "data.regions.resolution=cache"],
    )
    train(cfg)
    scores = pd.read_csv(Path(cfg.paths.output_dir) / "scores.csv", dtype={"video": str})
    assert {"region", "location_z"} <= set(scores.columns)
    assert np.isfinite(scores["region"]).all() and np.isfinite(scores["location_z"]).all()
