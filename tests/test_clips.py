"""Clips over cached videos and the VideoDataModule."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers import write_frames, write_video
from vad.data.batch import ClipBatch
from vad.data.cache import FrameCache
from vad.data.clips import (
    ClipDataset,
    VideoBatchSampler,
    clip_starts,
    contiguous_runs,
    new_clip_starts,
)
from vad.data.datamodule import VideoDataModule
from vad.data.layouts import FolderLayout, PixelplayLayout
from vad.errors import DataError

GAPPY = [3, 4, 5, 7, 8, 12, 13, 14, 15]
SMALL = (24, 32)


# --- runs and clip starts --------------------------------------------------------------------


def test_contiguous_runs() -> None:
    assert contiguous_runs(np.array(GAPPY)) == [(0, 3), (3, 5), (5, 9)]
    assert contiguous_runs(np.arange(5)) == [(0, 5)]
    assert contiguous_runs(np.array([7])) == [(0, 1)]
    assert contiguous_runs(np.array([], dtype=np.int64)) == []
    assert contiguous_runs(np.array([1, 3, 5])) == [(0, 1), (1, 2), (2, 3)]
    assert contiguous_runs([10, 11, 11, 12]) == [(0, 2), (2, 4)]  # a repeat breaks the run


def test_clip_starts_never_span_a_gap() -> None:
    ids = np.array(GAPPY)
    assert clip_starts(ids, 1).tolist() == list(range(9))
    assert clip_starts(ids, 2).tolist() == [0, 1, 3, 5, 6, 7]
    assert clip_starts(ids, 3).tolist() == [0, 5, 6]
    assert clip_starts(ids, 4).tolist() == [5]
    assert clip_starts(ids, 5).tolist() == []
    for length in range(1, 5):
        for start in clip_starts(ids, length).tolist():
            assert np.all(np.diff(ids[start : start + length]) == 1)
            assert start + length <= len(ids)


def test_clip_starts_stride_keeps_last_window() -> None:
    ids = np.arange(10)
    assert clip_starts(ids, 3, stride=3).tolist() == [0, 3, 6, 7]
    assert clip_starts(ids, 3, stride=7).tolist() == [0, 7]
    assert clip_starts(ids, 2, stride=4).tolist() == [0, 4, 8]  # last window already included
    assert clip_starts(ids, 10, stride=5).tolist() == [0]
    gappy = np.array([0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 15])
    assert clip_starts(gappy, 2, stride=2).tolist() == [0, 2, 3, 5, 7, 9]


def test_clip_starts_short_runs_and_bad_arguments() -> None:
    assert clip_starts(np.array([0, 2, 4, 6]), 2).tolist() == []
    assert clip_starts(np.array([], dtype=np.int64), 2).tolist() == []
    assert clip_starts(np.array([0, 1, 5, 6, 7]), 3).tolist() == [2]
    assert clip_starts(np.arange(4), 2).dtype == np.int64
    with pytest.raises(ValueError, match="length and stride"):
        clip_starts(np.arange(4), 0)
    with pytest.raises(ValueError, match="length and stride"):
        clip_starts(np.arange(4), 2, stride=0)


# --- ClipDataset -----------------------------------------------------------------------------


def make_pixelplay(parent: Path) -> Path:
    dataset = parent / "Dataset"
    write_frames(dataset / "training_videos" / "01", range(8), "frame_{:05d}.jpg", seed=1)
    write_frames(dataset / "training_videos" / "02", range(6), "frame_{:05d}.jpg", seed=2)
    write_frames(dataset / "training_videos" / "03", range(7), "frame_{:05d}.jpg", seed=3)
    write_frames(dataset / "testing_videos" / "01", GAPPY, "frame_{:05d}.jpg", seed=4)
    write_frames(dataset / "testing_videos" / "02", [0, 1, 2, 939, 940], "frame_{:05d}.jpg", seed=5)
    return parent


@pytest.fixture
def pixelplay(tmp_path: Path) -> Path:
    return make_pixelplay(tmp_path / "comp")


def test_clip_dataset_items(tmp_path: Path, pixelplay: Path) -> None:
    table = PixelplayLayout(pixelplay).videos()
    test = table[table["split"] == "test"]
    videos = FrameCache(tmp_path / "cache", SMALL, 1, workers=1).load_all(test)
    dataset = ClipDataset(videos, length=3)
    # video 01: runs 3-5, 7-8, 12-15 -> 1 + 0 + 2 clips; video 02: runs 0-2, 939-940 -> 1 clip
    assert len(dataset) == 4
    items = [dataset[i] for i in range(len(dataset))]
    assert [item["video"] for item in items] == ["01", "01", "01", "02"]
    assert [item["frame_ids"].tolist() for item in items] == [
        [3, 4, 5],
        [12, 13, 14],
        [13, 14, 15],
        [0, 1, 2],
    ]
    by_video = {v.video: v for v in videos}
    for item in items:
        frames, ids = item["frames"], item["frame_ids"]
        assert isinstance(frames, torch.Tensor) and frames.dtype == torch.uint8
        assert frames.shape == (3, *SMALL, 1)
        assert ids.dtype == torch.int64
        assert torch.all(ids[1:] - ids[:-1] == 1)
        video = by_video[item["video"]]
        positions = [video.frame_ids.tolist().index(i) for i in ids.tolist()]
        assert np.array_equal(frames.numpy(), np.asarray(video.frames[positions]))
    # distinct frames really differ (the clip is not one repeated frame)
    assert not torch.equal(items[1]["frames"][0], items[1]["frames"][1])


def test_clip_dataset_rgb_stride_and_empty(tmp_path: Path, pixelplay: Path) -> None:
    table = PixelplayLayout(pixelplay).videos()
    train = table[table["split"] == "train"]
    videos = FrameCache(tmp_path / "cache", SMALL, 3, workers=1).load_all(train)
    dataset = ClipDataset(videos, length=4, stride=3)
    # 8 frames: starts 0, 3, 4; 6 frames: 0, 2; 7 frames: 0, 3
    assert [
        (item["video"], item["frame_ids"][0].item())
        for item in (dataset[i] for i in range(len(dataset)))
    ] == [("01", 0), ("01", 3), ("01", 4), ("02", 0), ("02", 2), ("03", 0), ("03", 3)]
    assert dataset[0]["frames"].shape == (4, *SMALL, 3)
    assert len(ClipDataset(videos, length=9)) == 0
    assert len(ClipDataset([], length=2)) == 0


# --- VideoDataModule -------------------------------------------------------------------------


def make_folder_dataset(root: Path) -> Path:
    write_frames(root / "train" / "a", range(6), seed=1)
    write_frames(root / "train" / "b", range(5), seed=2)
    write_video(root / "train" / "c.avi", 7)
    write_frames(root / "test" / "x", [0, 1, 2, 3, 10, 11, 12], seed=3)
    write_video(root / "test" / "y.avi", 5)
    return root


def datamodule(tmp_path: Path, root: Path, **kwargs) -> VideoDataModule:
    kwargs.setdefault("val_videos", 1)
    return VideoDataModule(
        FolderLayout(root),
        image_size=SMALL,
        channels=1,
        cache_dir=tmp_path / "cache",
        batch_size=2,
        cache_workers=1,
        **kwargs,
    )


def test_datamodule_splits(tmp_path: Path) -> None:
    root = make_folder_dataset(tmp_path / "data")
    dm = datamodule(tmp_path, root, val_videos=1)
    assert dm.split_table("train")["video"].tolist() == ["a", "b"]
    assert dm.split_table("val")["video"].tolist() == ["c"]
    assert dm.split_table("test")["video"].tolist() == ["x", "y"]
    dm = datamodule(tmp_path, root, val_videos=["a", "c"])
    assert dm.split_table("train")["video"].tolist() == ["b"]
    assert dm.split_table("val")["video"].tolist() == ["a", "c"]
    dm = datamodule(tmp_path, root, val_videos=0)
    assert dm.split_table("train")["video"].tolist() == ["a", "b", "c"]
    assert dm.split_table("val").empty
    with pytest.raises(ValueError, match="unknown split"):
        dm.split_table("dev")


def test_datamodule_val_errors(tmp_path: Path) -> None:
    root = make_folder_dataset(tmp_path / "data")
    with pytest.raises(DataError, match="val_videos=3 leaves no training video") as info:
        datamodule(tmp_path, root, val_videos=3).split_table("train")
    assert str(root) in str(info.value)
    with pytest.raises(DataError, match=r"\['zz'\] are not training videos") as info:
        datamodule(tmp_path, root, val_videos=["a", "zz"]).split_table("val")
    assert str(root) in str(info.value)


def test_datamodule_needs_configure_clips(tmp_path: Path) -> None:
    dm = datamodule(tmp_path, make_folder_dataset(tmp_path / "data"))
    with pytest.raises(RuntimeError, match="configure_clips"):
        dm.train_dataloader()
    with pytest.raises(RuntimeError, match="configure_clips"):
        dm.test_dataloader()


def test_datamodule_loaders(tmp_path: Path) -> None:
    root = make_folder_dataset(tmp_path / "data")
    dm = datamodule(tmp_path, root, val_videos=["c"], eval_batch_size=3)
    dm.configure_clips(3)
    dm.prepare_data()
    assert [v.video for v in dm.videos("train")] == ["a", "b"]
    assert [v.video for v in dm.videos("val")] == ["c"]

    batches = list(dm.train_dataloader())
    assert len(batches) == 3  # a: 4 clips, b: 3 clips; the odd last clip is dropped
    for batch in batches:
        assert isinstance(batch, ClipBatch)
        frames = batch.frames
        assert frames.dtype == torch.uint8 and frames.shape == (2, 3, *SMALL, 1)
        assert isinstance(batch.video, list) and set(batch.video) <= {"a", "b"}
        assert batch.frame_ids.shape == (2, 3)
        assert torch.all(batch.frame_ids[:, 1:] - batch.frame_ids[:, :-1] == 1)

    val = list(dm.val_dataloader())
    assert [len(b.video) for b in val] == [3, 2]
    assert val[0].frame_ids[:, 0].tolist() == [0, 1, 2]

    test = list(dm.test_dataloader())
    videos = [v for b in test for v in b.video]
    ids = torch.cat([b.frame_ids for b in test])
    assert videos == ["x", "x", "x", "y", "y", "y"]
    assert ids[:, 0].tolist() == [0, 1, 10, 0, 1, 2]
    assert all(b.frames.shape[1:] == (3, *SMALL, 1) for b in test)
    predict = list(dm.predict_dataloader())
    assert torch.equal(torch.cat([b.frames for b in predict]), torch.cat([b.frames for b in test]))


def test_datamodule_drop_last_only_when_more_than_a_batch(tmp_path: Path) -> None:
    root = make_folder_dataset(tmp_path / "data")
    dm = datamodule(tmp_path, root, val_videos=["a", "b"])
    dm.configure_clips(3)
    loader = dm.train_dataloader()  # c.avi: 7 frames, 5 clips, batch 2 -> 2 full batches
    assert loader.drop_last
    assert [len(b.video) for b in loader] == [2, 2]
    dm = datamodule(tmp_path, root, val_videos=0)
    dm.configure_clips(3)
    assert len(dm.dataset("train")) == 4 + 3 + 5


def test_datamodule_partial_factory_and_stride(tmp_path: Path, pixelplay: Path) -> None:
    dm = VideoDataModule(
        partial(PixelplayLayout),
        image_size=16,
        channels=3,
        cache_dir=tmp_path / "cache",
        root=pixelplay,
        batch_size=4,
        val_videos=0,
        train_stride=4,
        eval_stride=2,
        cache_workers=1,
    )
    assert isinstance(dm.layout, PixelplayLayout)
    assert dm.layout.root == pixelplay / "Dataset"
    dm.configure_clips(2)
    train = dm.dataset("train")
    # 8 frames: 0, 4, 6; 6 frames: 0, 4; 7 frames: 0, 4, 5
    assert len(train) == 8
    test = dm.dataset("test")
    ids = [test[i]["frame_ids"].tolist() for i in range(len(test))]
    assert ids == [[3, 4], [4, 5], [7, 8], [12, 13], [14, 15], [0, 1], [1, 2], [939, 940]]
    batch = next(iter(dm.test_dataloader()))
    assert batch.frames.dtype == torch.uint8 and batch.frames.shape == (4, 2, 16, 16, 3)
    assert batch.video == ["01", "01", "01", "01"]
    assert dm.val_dataloader() == []


def test_datamodule_no_clips_is_an_error(tmp_path: Path, pixelplay: Path) -> None:
    dm = VideoDataModule(
        PixelplayLayout(pixelplay),
        image_size=SMALL,
        channels=1,
        cache_dir=tmp_path / "cache",
        val_videos=0,
        cache_workers=1,
    )
    dm.configure_clips(5)  # no test run has 5 consecutive frames
    assert len(dm.dataset("train")) > 0
    with pytest.raises(DataError, match="no test clip of 5 consecutive frames") as info:
        dm.dataset("test")
    assert str(pixelplay / "Dataset") in str(info.value)


def test_clips_of_a_growing_run_are_those_of_the_whole_run() -> None:
    for length, stride, total in ((3, 1, 9), (3, 2, 10), (4, 3, 12), (5, 4, 6)):
        grown = [new_clip_starts(n - 1, n, length, stride) for n in range(1, total + 1)]
        grown.append(new_clip_starts(total, total, length, stride, complete=True))
        streamed = np.concatenate(grown)
        assert streamed.tolist() == clip_starts(np.arange(total), length, stride).tolist()


def test_video_batches_take_one_clip_from_each_of_different_videos() -> None:
    clip_videos = np.repeat(np.arange(10), [50, 2, 2, 2, 2, 2, 2, 2, 2, 2])  # one long video
    sampler = VideoBatchSampler(clip_videos, batch_size=4)
    torch.manual_seed(0)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 68 // 4
    for batch in batches:
        assert len({clip_videos[i] for i in batch}) == 4
    share = np.mean([clip_videos[i] == 0 for b in batches for i in b])
    assert share < 0.3  # the long video is one of ten, not 50 of 68 clips
    torch.manual_seed(0)
    assert list(sampler) == batches  # follows torch's RNG (seeded runs repeat)
    few = VideoBatchSampler(np.array([0, 0, 1]), batch_size=4)
    assert all(len(b) == 4 for b in few)  # fewer videos than the batch: videos repeat
