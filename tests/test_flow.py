"""Optical flow as a cached modality: values, gaps, storage, settings and clip alignment."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from vad.data import modalities
from vad.data.cache import FrameCache
from vad.data.datamodule import VideoDataModule
from vad.data.flow import NO_FLOW, FlowEstimator, compute_flow, flow_settings, flow_valid
from vad.data.layouts import FolderLayout
from vad.data.table import make_table, table_from_sources
from vad.errors import DataError
from vad.models.joint import JointModule

SIZE = (40, 48)
SHIFT = (1.5, -1.0)  # (dx, dy) pixels per frame


def texture(size: tuple[int, int] = (120, 120), seed: int = 0) -> np.ndarray:
    """A smooth random grey texture, larger than the frames cut from it."""
    noise = np.random.default_rng(seed).random(size).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 2.0)
    return cv2.normalize(smooth, None, 20, 235, cv2.NORM_MINMAX)


def translated(ids: list[int], shift: tuple[float, float] = SHIFT, size=SIZE) -> np.ndarray:
    """uint8 frames (N, H, W, 1) of one texture moved by ``id * shift`` (sub-pixel warp)."""
    base, (h, w) = texture(), size
    frames = []
    for i in ids:
        matrix = np.float32([[1, 0, 30 + i * shift[0]], [0, 1, 30 + i * shift[1]]])
        moved = cv2.warpAffine(base, matrix, (base.shape[1], base.shape[0]), flags=cv2.INTER_CUBIC)
        frames.append(np.clip(moved[40 : 40 + h, 40 : 40 + w], 0, 255).round().astype(np.uint8))
    return np.stack(frames)[..., None]


def interior_median(flow: np.ndarray) -> np.ndarray:
    """Median (dx, dy) away from the borders, where the moving texture leaves or enters."""
    return np.median(flow[8:-8, 8:-8].reshape(-1, 2).astype(np.float32), axis=0)


@pytest.mark.parametrize("method", ["farneback", "dis"])
def test_translation_gives_the_shift(method: str) -> None:
    ids = [0, 1, 2, 3]
    flow = compute_flow(translated(ids), np.array(ids), {"method": method})
    assert flow.shape == (4, *SIZE, 2) and flow.dtype == np.float16
    assert np.all(flow[0] == NO_FLOW)  # nothing before the first frame (exact: a constant)
    for i in (1, 2, 3):
        assert interior_median(flow[i]) == pytest.approx(SHIFT, abs=0.15)
    # the reverse motion gives the opposite flow: the sign convention is frame i-1 -> i
    back = compute_flow(translated(ids)[::-1].copy(), np.array(ids), {"method": method})
    assert interior_median(back[2]) == pytest.approx((-SHIFT[0], -SHIFT[1]), abs=0.15)


def test_no_flow_across_gaps_and_static_scene() -> None:
    ids = np.array([0, 1, 2, 6, 7, 9])
    frames = translated(ids.tolist())
    assert flow_valid(ids).tolist() == [False, True, True, False, True, False]
    flow = compute_flow(frames, ids)
    for i in (0, 3, 5):  # run starts: the frames differ by 4 or 2 shifts, yet no flow
        assert np.all(flow[i] == NO_FLOW)  # exact: the constant fill
    for i in (1, 2, 4):
        assert interior_median(flow[i]) == pytest.approx(SHIFT, abs=0.15)
    static = compute_flow(np.repeat(frames[:1], 3, axis=0), np.arange(3))
    assert np.abs(static.astype(np.float32)).max() < 0.05  # identical frames: ~no motion


def test_absolute_speed_is_kept() -> None:
    """Flow is never rescaled per frame: twice the speed gives twice the flow."""
    slow = compute_flow(translated([0, 1], (0.75, 0.0)), np.arange(2))
    fast = compute_flow(translated([0, 1], (1.5, 0.0)), np.arange(2))
    ratio = interior_median(fast[1])[0] / interior_median(slow[1])[0]
    assert ratio == pytest.approx(2.0, abs=0.15)


def test_rgb_frames_and_bad_input() -> None:
    grey = translated([0, 1])
    rgb = np.repeat(grey, 3, axis=-1)
    # exact: equal channels convert to the same grey frames, then the same computation runs
    assert np.array_equal(compute_flow(rgb, np.arange(2)), compute_flow(grey, np.arange(2)))
    with pytest.raises(DataError, match="uint8"):
        compute_flow(grey.astype(np.float32), np.arange(2))
    with pytest.raises(DataError, match="3 frame ids for 2 frames"):
        compute_flow(grey, np.arange(3))


def test_settings_are_validated() -> None:
    assert flow_settings(None)["method"] == "farneback"
    full = flow_settings({"farneback": {"winsize": 9}})
    assert full["farneback"]["winsize"] == 9 and full["farneback"]["levels"] == 3
    with pytest.raises(DataError, match="flow method"):
        flow_settings({"method": "flownet"})
    with pytest.raises(DataError, match=r"unknown flow setting\(s\) \['speed'\]"):
        flow_settings({"speed": 1})
    with pytest.raises(DataError, match="farneback setting"):
        flow_settings({"farneback": {"window": 3}})
    with pytest.raises(DataError, match="dis_preset"):
        FlowEstimator({"method": "dis", "dis_preset": "slow"})


# --- the stored modality ---------------------------------------------------------------------


def cached_video(tmp_path: Path, ids: list[int]):
    folder = tmp_path / "data" / "01"
    folder.mkdir(parents=True)
    for i, frame in zip(ids, translated(ids), strict=True):
        cv2.imwrite(str(folder / f"{i:03d}.png"), frame[..., 0])
    table = make_table(table_from_sources("train", [folder]), tmp_path)
    return FrameCache(tmp_path / "cache", SIZE, 1, workers=1).load(table.iloc[0])


def test_modality_is_stored_reused_and_rebuilt_on_new_settings(tmp_path: Path) -> None:
    video = cached_video(tmp_path, [0, 1, 2, 5, 6])
    modalities.ensure(video, "flow", {"method": "farneback"})
    path = video.folder / "flow.npy"
    stored = np.load(path)
    assert stored.shape == (5, *SIZE, 2) and stored.dtype == np.float16
    # exact here and below: the file holds compute_flow's output unchanged, and the same code
    # recomputes it from the same frames in this process
    assert np.array_equal(stored, compute_flow(video.frames, video.frame_ids))
    assert np.all(stored[[0, 3]] == NO_FLOW)
    meta = json.loads((video.folder / "flow.json").read_text())
    assert meta["settings"]["method"] == "farneback" and meta["frames"] == 5
    mtime = path.stat().st_mtime_ns
    modalities.ensure(video, "flow", None)  # same settings once defaults are filled in
    assert path.stat().st_mtime_ns == mtime
    modalities.ensure(video, "flow", {"method": "dis"})
    rebuilt = np.load(path)
    assert json.loads((video.folder / "flow.json").read_text())["settings"]["method"] == "dis"
    assert np.array_equal(rebuilt, compute_flow(video.frames, video.frame_ids, {"method": "dis"}))
    assert not np.array_equal(rebuilt, stored)
    path.write_bytes(path.read_bytes()[:100])  # damaged: rebuilt
    modalities.ensure(video, "flow", {"method": "dis"})
    assert np.array_equal(np.load(path), rebuilt)


def test_unknown_modality_is_an_error(tmp_path: Path) -> None:
    video = cached_video(tmp_path, [0, 1])
    with pytest.raises(DataError, match="unknown modality 'depth'"):
        modalities.ensure(video, "depth")
    assert "flow" in modalities.available()


# --- alignment in clips, identical at train and test -----------------------------------------


def datamodule(root: Path, cache: Path) -> VideoDataModule:
    for split, videos in {
        "train": {"a": range(9)},
        "test": {"x": [0, 1, 2, 3, 4, 8, 9, 10, 11]},
    }.items():
        for name, ids in videos.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            frames = translated(list(ids), (1.0, 0.5) if split == "train" else (-1.0, 1.0))
            for i, frame in zip(ids, frames, strict=True):
                cv2.imwrite(str(folder / f"{i:03d}.png"), frame[..., 0])
    return VideoDataModule(
        FolderLayout(root), SIZE, 1, cache, batch_size=2, val_videos=0, cache_workers=1
    )


def test_clips_carry_aligned_flow_identically_at_train_and_test(tmp_path: Path) -> None:
    dm = datamodule(tmp_path / "data", tmp_path / "cache")
    module = JointModule(
        SIZE, 1, torch.optim.Adam, history=3, base_width=4, motion_width=4, depth=1
    )
    dm.configure_clips(module.clip_length, module.modalities)
    estimator = FlowEstimator(dm.modality_settings["flow"])
    for split in ("train", "test"):
        video = dm.videos(split)[0]
        frames = dict(zip(video.frame_ids.tolist(), np.asarray(video.frames), strict=True))
        for raw in dm.dataset(split):
            assert raw["flow"].dtype == torch.float16 and raw["flow"].shape == (4, *SIZE, 2)
            batch = module.on_after_batch_transfer(
                {k: v[None] if torch.is_tensor(v) else [v] for k, v in raw.items()}, 0
            )
            parts = module.split_clip(batch)
            t = int(raw["frame_ids"][-1])
            expect_in = estimator(frames[t - 2], frames[t - 1]).astype(np.float16)
            expect_target = estimator(frames[t - 1], frames[t]).astype(np.float16)
            # exact: the clip carries the cached float16 flow unchanged (float16 -> float32 is
            # exact) and the same estimator recomputes it from the same frames
            assert np.array_equal(parts["flow"][0].permute(1, 2, 0).numpy(), expect_in)
            assert np.array_equal(parts["flow_target"][0].permute(1, 2, 0).numpy(), expect_target)
            expected_frames = np.stack([frames[i] for i in (t - 3, t - 2, t - 1)])
            got = (parts["frames"][0].numpy() + 1) * 127.5
            assert np.allclose(got, expected_frames[..., 0], atol=1e-3)
    # the test video's clips stay inside its runs 0-4 and 8-11: targets 3, 4, 11 (run 8-11: one)
    targets = [int(dm.dataset("test")[i]["frame_ids"][-1]) for i in range(len(dm.dataset("test")))]
    assert targets == [3, 4, 11]
