"""The object-level density model: objects, attributes, kNN scores, calibration, end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tests.conftest import TINY, TINY_DATA
from vad.data.batch import ClipBatch
from vad.data.clips import memory_video
from vad.data.flow import FlowEstimator
from vad.data.regions import region_settings, video_boxes
from vad.models.checkpoint import load_model
from vad.models.density import DensityModule
from vad.models.density.bank import FeatureBank, combine, empty_score, knn_distance
from vad.models.density.features import (
    ObjectFeatures,
    grouped,
    pixel_boxes,
    score_groups,
    velocity,
    video_features,
)
from vad.models.density.ground import expected_heights, fit_ground, ground_of
from vad.tasks.train import train

REGIONS = region_settings()
FLOW = FlowEstimator({"method": "farneback"})
EXTRACTOR = ObjectFeatures({"velocity": True, "geometry": True, "appearance": True})
TEXTURE = (np.random.default_rng(1).random((16, 16)) * 100 + 150).astype(np.uint8)


def _scene(squares: list[tuple[int, int]]) -> np.ndarray:
    """A static textured 120 x 160 frame with textured 16 x 16 squares at (row, column)."""
    frame = (np.random.default_rng(0).random((120, 160)) * 40 + 60).astype(np.uint8)
    for row, col in squares:
        frame[row : row + 16, col : col + 16] = TEXTURE
    return frame


def _video(tracks: list[tuple[int, int, int]], length: int) -> tuple[np.ndarray, ...]:
    """Frames, flow and boxes of squares moving right: (row, first column, pixels per frame)."""
    frames = np.stack([_scene([(r, c + v * t) for r, c, v in tracks]) for t in range(length)])
    flow = np.zeros((*frames.shape, 2), dtype=np.float32)
    for t in range(1, length):
        flow[t] = FLOW(frames[t - 1], frames[t])
    return frames[..., None], flow, video_boxes(list(frames), REGIONS)


def test_objects_are_found_where_a_square_moves() -> None:
    _, _, boxes = _video([(50, 40, 4)], 5)
    found = pixel_boxes(boxes[2], 120, 160)
    assert len(found) == 1
    x0, y0, x1, y1 = found[0]
    assert x0 <= 48 and x1 >= 64 and y0 <= 50 and y1 >= 66  # the square at t = 2
    assert x1 - x0 < 40 and y1 - y0 < 30


def test_the_velocity_histogram_of_a_square_moving_right_peaks_in_the_right_bin() -> None:
    _, flow, boxes = _video([(50, 40, 4)], 4)
    hist = velocity(flow[2], pixel_boxes(boxes[2], 120, 160)[0], 8)
    assert hist.argmax() == 0  # bin 0: rightwards
    assert hist[0] > 0.5 * hist.sum()
    left = velocity(-flow[2], pixel_boxes(boxes[2], 120, 160)[0], 8)
    assert left.argmax() == 4


def test_a_fast_object_in_a_scene_of_slow_ones_scores_above_them() -> None:
    train = [video_features(EXTRACTOR, *_video([(20, 10, 2), (80, 60, 2)], 20))]
    bank = FeatureBank()
    bank.fit({n: torch.from_numpy(np.concatenate([t[n] for t in train])) for n in EXTRACTOR.names})
    frames, flow, boxes = _video([(20, 10, 2), (80, 10, 8), (50, 100, 2)], 8)
    raw = EXTRACTOR(frames[4], flow[4], boxes[4])
    scores = bank.distances("velocity", torch.from_numpy(raw["velocity"]), 1)
    centre_row = torch.from_numpy(raw["geometry"])[:, 1] * 120
    fast = (centre_row - 88).abs() < 10  # the square of row 80
    assert fast.any() and (~fast).sum() >= 2
    assert scores[fast].min() > 3 * scores[~fast].max()


def test_the_combination_is_invariant_to_an_attribute_scale() -> None:
    generator = torch.Generator().manual_seed(0)
    val = {n: torch.rand(50, generator=generator) for n in ("velocity", "appearance")}
    test = {n: torch.rand(20, generator=generator) * 2 for n in val}

    def scores(scale: float) -> torch.Tensor:
        v = {**val, "velocity": val["velocity"] * scale}
        t = {**test, "velocity": test["velocity"] * scale}
        stats = {n: (x.mean(), x.std(unbiased=False)) for n, x in v.items()}
        assert (combine(t, stats) > empty_score(stats)).all()
        return combine(t, stats)

    assert torch.allclose(scores(1.0), scores(100.0), atol=1e-4)
    # exact: an integer order; the scores' smallest gap (~0.02) is far above the 1e-4 above
    assert torch.equal(scores(1.0).argsort(), scores(100.0).argsort())


def test_distances_do_not_depend_on_the_unit_of_a_feature_dimension() -> None:
    generator = torch.Generator().manual_seed(0)
    train = torch.rand(40, 2, generator=generator, dtype=torch.float64).float()
    query = torch.rand(9, 2, generator=generator, dtype=torch.float64).float()
    unit = torch.tensor([1000.0, 1.0])  # e.g. pixels per frame next to a fraction of the frame
    plain, scaled = FeatureBank(), FeatureBank()
    plain.fit({"g": train})
    scaled.fit({"g": train * unit})
    expected = plain.distances("g", query, 1)
    assert torch.allclose(scaled.distances("g", query * unit, 1), expected, rtol=1e-4)
    assert not torch.allclose(knn_distance(query * unit, train * unit, 1), expected, rtol=1e-1)


def test_a_joint_density_finds_a_combination_each_attribute_alone_finds_normal() -> None:
    groups = score_groups(("velocity", "geometry", "appearance"), ["geometry", "velocity"])
    assert groups == {"velocity_geometry": ("velocity", "geometry"), "appearance": ("appearance",)}
    noise = np.random.default_rng(0).normal(0, 0.02, (40, 2))
    # training objects: slow and big (0.5 px/frame, size 0.3), or fast and small (4, 0.04)
    train = np.array([[0.5, 0.3]] * 20 + [[4.0, 0.04]] * 20) * (1 + noise)
    features = {"velocity": train[:, :1], "geometry": train[:, 1:]}
    pair = {"velocity_geometry": ("velocity", "geometry")}
    joint, alone = FeatureBank(), FeatureBank()
    joint.fit({k: torch.tensor(v).float() for k, v in grouped(features, pair).items()})
    alone.fit({k: torch.tensor(v).float() for k, v in features.items()})
    fast_big = {"velocity": np.array([[4.0]]), "geometry": np.array([[0.3]])}
    query = torch.tensor(grouped(fast_big, pair)["velocity_geometry"]).float()
    together = joint.distances("velocity_geometry", query, 1).item()
    each = [alone.distances(k, torch.tensor(v).float(), 1).item() for k, v in fast_big.items()]
    assert together > 5 * max(each)


def test_banks_are_saved_in_the_state_dict() -> None:
    bank = FeatureBank()
    bank.fit({"velocity": torch.rand(7, 8)})
    restored = FeatureBank()
    restored.load_state_dict(bank.state_dict())
    # exact: copied through the state dict
    assert torch.equal(restored.features["velocity"], bank.features["velocity"])
    assert torch.equal(restored.scales["velocity"], bank.scales["velocity"])


def test_only_enabled_attributes_are_scored_and_empty_frames_score_lowest() -> None:
    module = DensityModule((120, 160), 1, attributes={"velocity": True})
    frames, flow, boxes = _video([(20, 10, 2), (80, 10, 8)], 6)
    module.fit_bank([memory_video("v", {"frames": frames, "flow": flow, "boxes": boxes})])
    module.fitted.update("density_velocity", torch.tensor([0.1, 0.3, 0.2]))
    module.fitted.finish()
    batch = {
        "frames": torch.from_numpy(frames[1:5, None]).permute(0, 1, 4, 2, 3) / 127.5 - 1,
        "flow": torch.from_numpy(flow[1:5, None]).permute(0, 1, 4, 2, 3),
        "boxes": torch.from_numpy(boxes[[0, 2, 3, 5], None]),  # frames 0 and 5: no object
        "video": ["v"] * 4,
        "frame_ids": torch.arange(4)[:, None],
    }
    out = module(ClipBatch.of(batch))
    columns = module.frame_scores(out)
    assert set(columns) == {"velocity", "density"}
    density = columns["density"]
    # exact: both empty frames take the same constant (one below the lowest object score)
    assert density[0] == density[3] and (density[0] < density[1:3]).all()
    # a raw column gives an empty frame the lowest distance an object can have, not a value an
    # arbitrary number of its units below (min-max and smoothing would weigh that gap)
    velocity = columns["velocity"]
    # exact: the constant NO_OBJECT, and an empty frame's map is never painted (zeros)
    assert velocity[0] == velocity[3] == 0.0 and (velocity[1:3] >= 0).all()
    assert out.maps.shape == (4, 1, 120, 160) and out.maps[0].abs().sum() == 0
    assert (out.maps[1] > 0).any()


@pytest.mark.slow
def test_train_and_score_the_density_model(make_cfg) -> None:
    overrides = [o for o in TINY if not o.startswith("model.")]
    cfg = make_cfg(
        "train",
        [
            *TINY_DATA,
            *overrides,
            "model=density",
            "data.regions.min_area=4",
            "data.regions.resolution=cache",
            "scoring.column=density",
            "model.appearance_size=8",
        ],
        tiny=False,
    )
    train(cfg)
    scores = pd.read_csv(Path(cfg.paths.output_dir) / "scores.csv", dtype={"video": str})
    assert {"density", "velocity", "geometry", "appearance"} <= set(scores.columns)
    assert np.isfinite(scores["density"]).all()
    model, _ = load_model(Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt")
    assert set(model.bank.features) == {"velocity", "geometry", "appearance"}
    assert all(model.fitted.is_fitted(f"density_{n}") for n in model.bank.features)
    assert "ground" not in model.bank.meta  # fitted only where a scale needs it


def test_the_ground_line_follows_the_median_box_and_not_merged_groups() -> None:
    """Boxes of people 0.2 px taller per row of their feet, a fifth of them groups 3x as tall:
    the line is the people's, and a box's expected height is read at its foot row."""
    rng = np.random.default_rng(0)
    feet = rng.uniform(40, 150, 500)
    heights = 2.0 + 0.2 * feet + rng.normal(0, 0.5, 500)
    heights[::5] *= 3  # merged groups
    boxes = np.stack([np.full(500, 10.0), feet - heights, np.full(500, 20.0), feet], axis=1)
    intercept, slope, low, high = fit_ground(boxes)
    assert abs(slope - 0.2) < 0.02 and abs(intercept - 2.0) < 2.0 and 40 < low < high < 150
    ground = np.array([-8.0, 0.2, 20.0, 100.0])
    expected = expected_heights(np.array([[0, 0, 5, 50.0], [0, 0, 5, 0.0], [0, 0, 5, 200]]), ground)
    # within the fitted rows the line; beyond them the nearest row's height, at least the floor
    np.testing.assert_allclose(expected[:, 0], [2.0, 2.0, 12.0])
    np.testing.assert_allclose(expected_heights(np.array([[0, 0, 5, 60.0]]), ground), [[4.0]])
    assert fit_ground(boxes[:1])[1] == 0.0  # one row of feet: a constant height
    with pytest.raises(ValueError, match="training boxes"):
        fit_ground(np.zeros((0, 4)))


def test_speed_and_size_in_ground_heights_are_the_same_near_and_far() -> None:
    """Two walkers of the heights the ground line expects at their feet, the near one twice
    as tall and twice as fast in pixels: in expected heights their speeds read equal and sizes
    are box sides over expected heights; the line is fitted on the training videos' boxes and
    kept in the checkpoint."""
    frame, flow = np.zeros((40, 60), np.uint8), np.zeros((40, 60, 2), np.float32)
    flow[2:12, 2:6, 0] = 1.0  # far: feet at row 12, 10 px tall, 1 px/frame
    flow[4:24, 30:40, 0] = 2.0  # near: feet at row 24, 20 px tall, 2 px/frame
    boxes = np.array([[2, 2, 6, 12], [30, 4, 40, 24]], np.float64) / [60, 40, 60, 40]
    features = ObjectFeatures(
        {"velocity": True, "geometry": True}, velocity_bins=1, velocity_scale="ground",
        size_scale="ground", geometry_features=("size",),
    )  # fmt: skip
    with pytest.raises(ValueError, match="ground line"):
        features(frame, flow, boxes)
    video = memory_video(
        "v", {"frames": np.zeros((2, 40, 60, 1), np.uint8), "boxes": boxes[None].repeat(2, 0)}
    )
    features.ground = ground_of([video])  # heights 10 and 20 at rows 12 and 24: h = 5 / 6 y
    np.testing.assert_allclose(features.ground, [0.0, 10 / 12, 12, 24], atol=1e-9)
    out = features(frame, flow, boxes)
    np.testing.assert_allclose(out["velocity"][:, 0], [0.1, 0.1], rtol=1e-5)
    np.testing.assert_allclose(out["geometry"][:, 0], [np.sqrt(40) / 10, np.sqrt(200) / 20])
    module = DensityModule((40, 60), 1, velocity_scale="ground", velocity_bins=1)
    module.bank.meta["ground"] = torch.tensor(features.ground)
    restored = DensityModule((40, 60), 1, velocity_scale="ground", velocity_bins=1)
    restored.load_state_dict(module.state_dict())
    assert torch.equal(restored.bank.meta["ground"], module.bank.meta["ground"])
    with pytest.raises(ValueError, match="size_scale"):
        ObjectFeatures({"velocity": True}, size_scale="depth")


def test_the_tree_search_of_small_banks_equals_brute_force() -> None:
    generator = torch.Generator().manual_seed(1)
    train, query = torch.rand(500, 2, generator=generator), torch.rand(30, 2, generator=generator)
    bank = FeatureBank()
    bank.fit({"g": train * torch.tensor([5.0, 0.1])})
    scaled = query * torch.tensor([5.0, 0.1]) / bank.scales["g"]
    for k in (1, 3):
        brute = knn_distance(scaled, bank.features["g"], k)  # cdist: float32 matrix products
        assert torch.allclose(
            bank.distances("g", query * torch.tensor([5.0, 0.1]), k), brute, rtol=1e-3, atol=1e-4
        )
    assert "g" in bank._trees


def test_velocity_in_box_heights_is_the_same_for_a_near_and_a_far_walker() -> None:
    """A walker twice as tall (nearer the camera) moves twice the pixels per frame: in box
    heights per frame both read the same."""
    frame = np.zeros((40, 60), np.uint8)
    flow = np.zeros((40, 60, 2), np.float32)
    flow[2:12, 2:6, 0] = 1.0  # far: 10 px tall, 1 px/frame
    flow[18:38, 30:38, 0] = 2.0  # near: 20 px tall, 2 px/frame
    boxes = np.array([[2, 2, 6, 12], [30, 18, 38, 38]], np.float64) / [60, 40, 60, 40]
    pixels = ObjectFeatures({"velocity": True}, velocity_bins=1)(frame, flow, boxes)["velocity"]
    heights = ObjectFeatures({"velocity": True}, velocity_bins=1, velocity_scale="height")
    scaled = heights(frame, flow, boxes)["velocity"]
    np.testing.assert_allclose(pixels[:, 0], [1.0, 2.0], rtol=1e-6)  # float32 box means
    np.testing.assert_allclose(scaled[:, 0], [0.1, 0.1], rtol=1e-6)
    with pytest.raises(ValueError, match="velocity_scale"):
        ObjectFeatures({"velocity": True}, velocity_scale="depth")
