"""The pasted moving object: a local pseudo-anomaly of the label-free validation score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tests.helpers import moving_square
from vad.data.batch import ClipBatch
from vad.data.clips import memory_video
from vad.data.pasted import feathered_alpha, plan_pasted, typical_size
from vad.errors import DataError
from vad.models.base import Prediction
from vad.models.unet import UNetModule
from vad.scoring.pseudo_anomaly import label_free_aucs, pasted_videos, typical_object_size
from vad.scoring.scorer import Scorer
from vad.tasks.train import train

OPTIONS = {"copies": 2, "span": 12, "size": 0.25, "speed": 0.05}


def _video(frames: int = 60, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    """A square moving right 1 px per frame on a still textured background."""
    return np.array([moving_square(t, size, speed=1) for t in range(frames)])


def test_the_object_cut_is_the_moving_square_and_its_path_stays_in_the_frame() -> None:
    frames = _video()
    plan = plan_pasted(frames, start=20, span=12, size=0.25, speed=0.05)
    x0, y0, x1, y1 = plan.box
    square_row = (48 // 3 + 4) / 48  # the square's centre row
    assert y0 < square_row < y1
    square_col = ((5 + plan.source) % 54 + 4) / 64  # the square wraps at 54
    assert x0 < square_col < x1
    assert plan.span == 12 and np.all(plan.path >= 0) and np.all(plan.path[:, 0] <= 0.75)
    assert np.allclose(np.diff(plan.path[:, 0]), 0.05)  # straight, at the given speed
    assert plan.labels(60).tolist() == [0] * 20 + [1] * 12 + [0] * 28


def test_a_path_that_would_leave_the_frame_is_cut_short() -> None:
    plan = plan_pasted(_video(), start=0, span=50, size=0.5, speed=0.1)
    assert plan.span == 6  # x = 0, 0.1, ..., 0.5: the object's right edge reaches the border
    with pytest.raises(ValueError, match="cannot paste"):
        plan_pasted(_video(), start=0, span=5, size=1.5)


def test_rendering_changes_only_the_segment_near_the_path_at_any_resolution() -> None:
    frames = _video()
    plan = plan_pasted(frames, start=20, span=12, size=0.25, speed=0.05)
    for scale in (1, 3):  # the same object at the cached and at a native size
        big = [np.kron(f, np.ones((scale, scale), np.uint8)) for f in frames]
        out = plan.render(big)
        changed = [not np.array_equal(a, b) for a, b in zip(out, big, strict=True)]
        assert changed == [bool(v) for v in plan.labels(60)]
        height = 48 * scale
        rows = np.flatnonzero(np.any(out[25] != big[25], axis=1))
        assert plan.box[1] * height - 1 <= rows.min() and rows.max() <= plan.box[3] * height + 1
    colour = plan.render([f[..., None].repeat(3, 2) for f in frames])
    assert colour[25].shape == (48, 64, 3) and colour[25].dtype == np.uint8


def test_the_pasted_edges_are_feathered() -> None:
    alpha = feathered_alpha(9, 9)
    # exact: clipped to 1 at the centre and to 0 at the corner
    assert alpha[4, 4] == 1.0 and alpha[0, 0] == 0.0 and 0 < alpha[4, 1] < 1


def _module() -> UNetModule:
    optimizer = lambda params: torch.optim.Adam(params, lr=1e-3)  # noqa: E731
    return UNetModule((48, 64), 1, optimizer, history=4, base_width=4, depth=2).eval()


def _walking(count: int = 2) -> list:
    return [memory_video(f"v{v}", {"frames": _video()[..., None]}) for v in range(count)]


def test_pasted_copies_are_labelled_where_the_object_shows() -> None:
    copies = pasted_videos(_walking(1), 5, OPTIONS)
    assert [c.video for c in copies] == ["v0@5pasted", "v0@43pasted"]
    for copy in copies:
        assert copy.labels.sum() == 12 and len(copy) == 60


def test_a_decoy_glides_slowly_through_the_farthest_segment_labelled_normal() -> None:
    options = {**OPTIONS, "decoy_speed": 0.01}
    plain, decoyed = pasted_videos(_walking(1), 5, OPTIONS), pasted_videos(_walking(1), 5, options)
    for one, two in zip(plain, decoyed, strict=True):
        assert np.array_equal(one.labels, two.labels)  # decoy frames stay normal
        changed = np.flatnonzero((one.frames != two.frames).reshape(len(one), -1).any(axis=1))
        assert len(changed) > 0 and not one.labels[changed].any()
        assert changed.min() >= 43 or changed.max() < 17  # inside the other segment
    too_short = {**options, "span": 30}  # segments 5..35 and 25..55 overlap: no room
    assert pasted_videos(_walking(1), 5, too_short) == []


@pytest.mark.slow
def test_label_free_kinds_are_chance_for_a_constant_model() -> None:
    module = _module()
    module.frame_scores = lambda out: {"psnr": torch.zeros(out.frame_ids.numel())}
    aucs = label_free_aucs(Scorer(module), _walking(), "psnr", (2,), pasted=OPTIONS)
    assert set(aucs) == {"x2", "pasted"}
    assert aucs["pasted"] == pytest.approx(0.5) and aucs["x2"] == pytest.approx(0.5)


@pytest.mark.slow
def test_a_motion_sensitive_model_finds_the_pasted_object() -> None:
    module = _module()

    def copy_last_frame(batch: ClipBatch) -> Prediction:  # error = change from the previous frame
        frames = batch.frames
        return Prediction(frames[:, 3], frames[:, 4], positions=(4,))

    module.forward = copy_last_frame
    aucs = label_free_aucs(Scorer(module), _walking(), "mse", (2,), pasted=OPTIONS, sigma=1.0)
    assert aucs["pasted"] > 0.8


@pytest.mark.slow
def test_training_logs_each_kind_of_the_label_free_score(make_cfg) -> None:
    cfg = make_cfg(
        "train",
        [
            "data.layout.n_frames=60",
            "callbacks.label_free_validation.pasted.span=12",
            "test=false",
        ],
    )
    train(cfg)
    logged = pd.read_csv(next(Path(cfg.paths.output_dir).glob("csv/metrics.csv")))
    kinds = logged[["val/pseudo_auc_x2", "val/pseudo_auc_x3", "val/pseudo_auc_pasted"]].dropna()
    assert len(kinds) == 1 and kinds.to_numpy().min() >= 0 and kinds.to_numpy().max() <= 1
    mean = logged["val/pseudo_auc"].dropna().iloc[0]
    assert mean == pytest.approx(kinds.iloc[0].mean(), abs=1e-6)


def test_typical_size_is_the_median_motion_box_with_a_fallback() -> None:
    boxes = np.full((3, 2, 4), np.nan)
    boxes[0, 0] = [0.1, 0.2, 0.15, 0.35]  # 0.15 high, 0.05 wide
    boxes[1, 0] = [0.5, 0.5, 0.6, 0.6]
    boxes[2, :] = [[0.0, 0.0, 0.04, 0.2], [0.2, 0.2, 0.3, 0.3]]
    assert np.allclose(typical_size(boxes, 0.08), (0.125, 0.075))  # heights .15 .1 .2 .1
    assert typical_size(np.full((2, 3, 4), np.nan), 0.08) == (0.08, 0.08)


def test_auto_size_is_the_size_of_the_videos_own_moving_object() -> None:
    frames = np.array([moving_square(t, (48, 64), speed=8) for t in range(40)])[..., None]
    video = memory_video("v", {"frames": frames})
    settings = {"boxes": {"min_area": 10, "pad": 0}}
    height, width = typical_object_size(video, settings)
    assert 8 / 48 <= height <= 12 / 48  # the 8-pixel square (a pixel of blur each side)
    assert 8 / 64 <= width <= 26 / 64  # and where it came from along its 8-pixel step
    copies = pasted_videos([video], 5, {**OPTIONS, "size": "auto"}, settings=settings)
    assert len(copies) == 2 and all(c.labels.sum() == 12 for c in copies)
    with pytest.raises(DataError, match="pasted size 'big'"):
        pasted_videos([video], 5, {**OPTIONS, "size": "big"})
