"""Skip-frame pseudo-anomalies: clips that skip frames, and the training target they get."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from tests.helpers import fit_fixed_batch, moving_square, write_frames
from vad.data.batch import ClipBatch
from vad.data.cache import FrameCache
from vad.data.clips import ClipDataset, memory_video
from vad.errors import TrainingError
from vad.models.base import Prediction
from vad.models.skip_frames import with_pseudo_anomalies
from vad.models.unet import UNetModule
from vad.scoring.pseudo_anomaly import MIN_SPAN, label_free_auc, sped_up_videos
from vad.scoring.scorer import Scorer


def _gappy_videos() -> list:
    """Two in-memory videos; the first has runs 0-11 and 20-25 (a gap), the second 0-29."""
    frames = np.arange(40, dtype=np.uint8)[:, None, None, None].repeat(4, 1).repeat(4, 2)
    first = memory_video("a", {"frames": frames[:18]}, np.r_[0:12, 20:26])
    second = memory_video("b", {"frames": frames[10:40]}, np.arange(100, 130))
    return [first, second]


def test_skipped_clips_stay_in_one_run_of_one_video_and_keep_original_ids() -> None:
    videos = _gappy_videos()
    torch.manual_seed(0)
    dataset = ClipDataset(videos, 3, skips=(2, 3, 5), skip_probability=1.0)
    seen = set()
    for i in range(len(dataset)):
        item = dataset[i]
        skip, ids, skipped = int(item["skip"]), item["frame_ids"], item["skip_ids"]
        video = next(v for v in videos if v.video == item["video"])
        if skip == 0:  # no skip fits in the rest of the run
            assert torch.equal(skipped, ids)
            continue
        seen.add(skip)
        assert skipped.tolist() == [int(ids[0]) + k * skip for k in range(3)]
        assert set(skipped.tolist()) <= set(video.frame_ids.tolist())  # never across the gap
        positions = np.searchsorted(video.frame_ids, skipped.numpy())
        assert np.array_equal(item["skip_frames"].numpy(), video.frames[positions])
    assert seen == {2, 3, 5}
    # the run 20-25 is too short for skip 3 from 20 (20, 23, 26): only 2 fits there
    item = dataset[int(np.flatnonzero((dataset.index[:, 0] == 0) & (dataset.index[:, 1] == 12))[0])]
    assert int(item["skip"]) in (0, 2)


def test_no_skip_without_probability() -> None:
    dataset = ClipDataset(_gappy_videos(), 3)
    assert "skip" not in dataset[0]
    with pytest.raises(ValueError, match="skips >= 2"):
        ClipDataset(_gappy_videos(), 3, skips=(1,), skip_probability=0.5)


def _clips(b: int = 2, length: int = 13, size: int = 16) -> dict:
    clips = [
        [moving_square(t, (size, size), speed=1, seed=i) for t in range(length)] for i in range(b)
    ]
    return torch.from_numpy(np.array(clips, dtype=np.uint8))[..., None]


def _module(**kwargs) -> UNetModule:
    optimizer = lambda params: torch.optim.Adam(params, lr=1e-3)  # noqa: E731
    # torch's default init (init_std=None): the fixed-batch tests measure the loss from there
    kwargs.setdefault("init_std", None)
    return UNetModule((16, 16), 1, optimizer, history=4, base_width=4, depth=2, **kwargs)


def _pseudo_batch(module: UNetModule, skip: int = 3) -> dict:
    """Normal clips (frames 0-4) and, for every clip, the frames ``skip`` apart (0, 3, ..., 12)."""
    video = _clips()
    batch = {
        "frames": video[:, :5],
        "skip_frames": video[:, ::skip][:, :5],
        "skip": torch.full((2,), skip),
        "video": ["01", "01"],
        "frame_ids": torch.arange(5).repeat(2, 1),
    }
    return module.on_after_batch_transfer(batch, 0)


def test_the_loss_rises_when_a_model_reproduces_the_skipped_future() -> None:
    module = _module()
    batch = with_pseudo_anomalies(_pseudo_batch(module))
    # exact: the skipped frames are copied into the input
    assert torch.equal(batch.frames[:, 1], batch.skip_frames[:, 1])
    out = module(batch)
    normal_future = batch.targets[:, 4]
    skipped_future = batch.skip_frames[:, 4]
    out.pred = normal_future
    assert module.losses(batch, out)["loss"] == 0  # exact: pred is the target, differences 0
    out.pred = skipped_future  # what the input's fast motion continues to
    assert module.losses(batch, out)["loss"] > 0.01


@pytest.mark.slow
def test_training_with_pseudo_anomalies_learns_the_normal_target() -> None:
    torch.manual_seed(0)
    module = _module(pseudo_anomaly={"probability": 0.5, "skips": [3]})
    batch = with_pseudo_anomalies(_pseudo_batch(module))
    history = fit_fixed_batch(module, batch, 30)
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]


def test_pseudo_anomaly_settings_are_checked() -> None:
    with pytest.raises(TrainingError, match="pseudo_anomaly"):
        _module(pseudo_anomaly={"probability": 0.2})
    with pytest.raises(TrainingError, match="pseudo_anomaly"):
        _module(pseudo_anomaly={"probability": 0.2, "skips": [3], "rate": 1})
    assert _module().pseudo_anomaly["probability"] == 0


# --- the label-free validation score ---------------------------------------------------------


def _walking_videos(count: int = 2, frames: int = 60) -> list:
    """Normal videos: a square moving one pixel per frame."""
    videos = []
    for v in range(count):
        clip = np.array([moving_square(t, (16, 16), speed=1, seed=v) for t in range(frames)])
        videos.append(memory_video(f"v{v}", {"frames": clip.astype(np.uint8)[..., None]}))
    return videos


@pytest.mark.slow
def test_label_free_score_is_chance_for_a_constant_model() -> None:
    module = _module().eval()
    module.frame_scores = lambda out: {"psnr": torch.zeros(out.frame_ids.numel())}
    auc = label_free_auc(Scorer(module), _walking_videos(), "psnr", factors=(2, 3))
    assert auc == pytest.approx(0.5)


def test_label_free_score_finds_sped_up_segments_with_a_motion_sensitive_model() -> None:
    module = _module().eval()

    def copy_last_frame(batch: ClipBatch) -> Prediction:  # error = change from the previous frame
        frames = batch.frames
        return Prediction(frames[:, 3], frames[:, 4], positions=(4,))

    module.forward = copy_last_frame
    auc = label_free_auc(Scorer(module), _walking_videos(), "mse", factors=(3,))
    assert auc > 0.8  # the frames reached by a jump change most (but the square also wraps)


def test_sped_up_copies_recompute_flow_and_boxes_from_their_own_frames() -> None:
    frames = np.array([moving_square(t, (48, 128), speed=2) for t in range(60)])[..., None]
    stale = np.full((60, 16, 4), np.nan, np.float32)  # boxes of the original: none at all
    video = memory_video("v", {"frames": frames, "boxes": stale})
    settings = {"flow": {"method": "farneback"}, "boxes": None}
    copy = sped_up_videos([video], 1, 3, 2, ("frames", "flow", "boxes"), settings)[0]
    labels = copy.labels.astype(bool)
    assert labels.sum() == MIN_SPAN  # a one-frame model still gets a segment of MIN_SPAN jumps
    speed = np.abs(copy.array("flow").astype(np.float32)).sum(-1).max(axis=(1, 2))
    assert np.median(speed[labels]) > 2 * np.median(speed[1:][~labels[1:]])
    found = np.isfinite(copy.array("boxes")).all(axis=-1).any(axis=-1)
    assert found[labels].all()


def test_label_free_score_skips_videos_too_short_for_a_segment() -> None:
    module = _module().eval()
    short = _walking_videos(frames=12)
    assert math.isnan(label_free_auc(Scorer(module), short, "psnr", factors=(2,)))


def test_native_boxes_of_a_sped_up_copy_come_from_the_source_frames(tmp_path) -> None:
    """Thresholds in native pixels (a 10 x 10 minimum) find the square in the 48 x 128 source,
    not in the 12 x 32 cached frames, where it is 2 x 2 pixels."""
    write_frames(tmp_path / "v", range(60), size=(48, 128))
    for t in range(60):  # a square moving 2 pixels per frame
        cv2.imwrite(str(tmp_path / "v" / f"{t:03d}.jpg"), moving_square(t, (48, 128), speed=2))
    table = pd.DataFrame(
        [{"split": "train", "video": "v", "source": str(tmp_path / "v"), "labels": None}]
    )
    table["frame_ids"] = [np.arange(60)]
    video = FrameCache(tmp_path / "cache", (12, 32), 1).load(table.iloc[0])
    native = {"boxes": {"resolution": "native", "min_area": 50}}
    cache = {"boxes": {"resolution": "cache", "min_area": 50}}
    for settings, expect in ((native, True), (cache, False)):
        copy = sped_up_videos([video], 1, 3, 1, ("frames", "boxes"), settings)[0]
        found = np.isfinite(copy.array("boxes")).all(axis=-1).any(axis=-1)
        assert found[copy.labels.astype(bool)].all() == expect
