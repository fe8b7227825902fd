"""The frame cache: build, reuse, keys, damaged entries, preprocessing stages, npy streaming."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from tests.helpers import write_frames, write_video
from vad.data.cache import CachedVideo, FrameCache, resize_frame
from vad.data.sources import FrameFolder, VideoFile
from vad.data.stages import Frame, FrameStage
from vad.data.table import make_table, table_from_sources
from vad.errors import DataError
from vad.io.npy import NpyStreamWriter

SIZE = (48, 64)
SMALL = (24, 32)


def table_for(split_paths: dict[str, list[Path]]) -> pd.DataFrame:
    rows = []
    for split, paths in split_paths.items():
        rows += table_from_sources(split, paths)
    return make_table(rows, "test")


def expected_frames(files: list[Path], size: tuple[int, int], channels: int) -> np.ndarray:
    """Decode and resize independently of the cache (INTER_AREA for shrinking)."""
    out = []
    for file in files:
        if channels == 1:
            image = cv2.imread(str(file), cv2.IMREAD_GRAYSCALE)
        else:
            image = cv2.cvtColor(cv2.imread(str(file), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        image = cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA)
        out.append(image.reshape(size[0], size[1], channels))
    return np.stack(out)


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, list[Path]]:
    path = tmp_path / "data" / "01"
    files = write_frames(path, [3, 4, 5, 7, 8], pattern="frame_{:05d}.jpg", size=SIZE)
    return path, files


class CountingIter:
    """Wraps a source class's ``iter_frames`` and counts decodes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cls: type) -> None:
        self.calls, original = 0, cls.iter_frames

        def wrapped(source, channels: int):
            self.calls += 1
            return original(source, channels)

        monkeypatch.setattr(cls, "iter_frames", wrapped)


@pytest.mark.parametrize("channels", [1, 3])
def test_build_entry(tmp_path: Path, folder: tuple[Path, list[Path]], channels: int) -> None:
    path, files = folder
    row = table_for({"train": [path]}).iloc[0]
    cache = FrameCache(tmp_path / "cache", SMALL, channels, workers=1)
    video = cache.load(row)
    assert isinstance(video, CachedVideo)
    assert video.split == "train" and video.video == "01" and video.source == str(path)
    assert video.frame_ids.tolist() == [3, 4, 5, 7, 8]
    assert video.source_ids.tolist() == [3, 4, 5, 7, 8]
    assert video.labels is None
    assert len(video) == 5
    frames = video.frames
    assert isinstance(frames, np.memmap)
    assert frames.shape == (5, *SMALL, channels) and frames.dtype == np.uint8
    assert np.array_equal(np.asarray(frames), expected_frames(files, SMALL, channels))
    assert video.folder.parent == tmp_path / "cache"
    assert sorted(p.name for p in video.folder.iterdir()) == ["frames.npy", "meta.json"]
    assert video.info.index.tolist() == [3, 4, 5, 7, 8]
    assert video.info.columns.tolist() == []
    # no temporary folder is left behind
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [video.folder.name]


def test_video_file_entry_and_labels(tmp_path: Path) -> None:
    source = write_video(tmp_path / "clip.avi", 6, size=SIZE)
    labels = np.array([0, 0, 1, 1, 0, 0], np.uint8)
    table = make_table(table_from_sources("test", [source], {"clip": labels}), tmp_path)
    video = FrameCache(tmp_path / "cache", (48, 64), 3, workers=1).load(table.iloc[0])
    assert video.frames.shape == (6, 48, 64, 3)
    assert video.frame_ids.tolist() == list(range(6))
    assert video.labels.tolist() == labels.tolist()
    decoded = np.stack([img for _, img in VideoFile(source).iter_frames(3)])
    assert np.array_equal(np.asarray(video.frames), decoded)  # same size: no resize


def test_upscale_and_square_size(tmp_path: Path, folder: tuple[Path, list[Path]]) -> None:
    path, files = folder
    row = table_for({"train": [path]}).iloc[0]
    video = FrameCache(tmp_path / "cache", 80, 1, workers=1).load(row)
    assert video.frames.shape == (5, 80, 80, 1)
    image = cv2.imread(str(files[0]), cv2.IMREAD_GRAYSCALE)
    expected = cv2.resize(image, (80, 80), interpolation=cv2.INTER_LINEAR)
    assert np.array_equal(video.frames[0, ..., 0], expected)


def test_bad_channels(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="channels"):
        FrameCache(tmp_path, SMALL, 2)


def test_second_load_reuses_entry(
    tmp_path: Path, folder: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = folder
    row = table_for({"train": [path]}).iloc[0]
    counter = CountingIter(monkeypatch, FrameFolder)
    cache = FrameCache(tmp_path / "cache", SMALL, 1, workers=1)
    first = cache.load(row)
    assert counter.calls == 1
    stored = np.array(first.frames)
    mtime = (first.folder / "frames.npy").stat().st_mtime_ns
    second = FrameCache(tmp_path / "cache", SMALL, 1, workers=1).load(row)
    assert counter.calls == 1  # not decoded again
    assert second.folder == first.folder
    assert (second.folder / "frames.npy").stat().st_mtime_ns == mtime
    assert np.array_equal(np.asarray(second.frames), stored)
    assert second.frame_ids.tolist() == first.frame_ids.tolist()


def test_key_depends_on_settings_and_source(
    tmp_path: Path, folder: tuple[Path, list[Path]]
) -> None:
    path, files = folder
    row = table_for({"train": [path]}).iloc[0]
    cache_dir = tmp_path / "cache"
    base = FrameCache(cache_dir, SMALL, 1)
    key = base.key(row)
    assert key == FrameCache(cache_dir, list(SMALL), 1).key(row)  # deterministic
    assert key != FrameCache(cache_dir, (24, 24), 1).key(row)
    assert key != FrameCache(cache_dir, (32, 24), 1).key(row)
    assert key != FrameCache(cache_dir, SMALL, 3).key(row)
    assert key != FrameCache(cache_dir, SMALL, 1, resize="bilinear").key(row)
    assert key == FrameCache(cache_dir, SMALL, 1, resize="area").key(row)  # the default
    before = np.array(base.load(row).frames)
    # change one source frame: new content, new size, later mtime
    cv2.imwrite(str(files[2]), np.full(SIZE, 255, np.uint8))
    stat = files[2].stat()
    os.utime(files[2], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert base.key(row) != key
    after = base.load(row)
    assert after.folder.name == base.key(row)
    assert np.array_equal(after.frames[[0, 1, 3, 4]], before[[0, 1, 3, 4]])
    assert after.frames[2].min() == 255 and before[2].min() < 255


@pytest.mark.parametrize("keep", ["empty", "magic", "header", "minus_one_frame", "minus_byte"])
def test_truncated_frames_rebuilt(
    tmp_path: Path, folder: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch, keep: str
) -> None:
    path, files = folder
    row = table_for({"train": [path]}).iloc[0]
    counter = CountingIter(monkeypatch, FrameFolder)
    cache = FrameCache(tmp_path / "cache", SMALL, 1, workers=1)
    video = cache.load(row)
    npy = video.folder / "frames.npy"
    del video  # release the memory map before damaging the file
    gc.collect()
    size = npy.stat().st_size
    frame_bytes = SMALL[0] * SMALL[1]
    new_size = {
        "empty": 0,
        "magic": 5,
        "header": 60,
        "minus_one_frame": size - frame_bytes,
        "minus_byte": size - 1,
    }[keep]
    with open(npy, "r+b") as handle:
        handle.truncate(new_size)
    rebuilt = cache.load(row)
    assert counter.calls == 2
    assert rebuilt.frames.shape == (5, *SMALL, 1)
    assert np.array_equal(np.asarray(rebuilt.frames), expected_frames(files, SMALL, 1))
    assert npy.stat().st_size == size


@pytest.mark.parametrize("damage", ["missing_meta", "bad_json", "wrong_ids"])
def test_damaged_meta_rebuilt(tmp_path: Path, folder: tuple[Path, list[Path]], damage: str) -> None:
    path, files = folder
    row = table_for({"train": [path]}).iloc[0]
    cache = FrameCache(tmp_path / "cache", SMALL, 1, workers=1)
    meta = cache.load(row).folder / "meta.json"
    if damage == "missing_meta":
        meta.unlink()
    elif damage == "bad_json":
        meta.write_text('{"frame_ids": [3, 4')
    else:
        meta.write_text('{"frame_ids": [3, 4, 5]}')
    video = cache.load(row)
    assert video.frame_ids.tolist() == [3, 4, 5, 7, 8]
    assert np.array_equal(np.asarray(video.frames), expected_frames(files, SMALL, 1))


def test_load_all_parallel(tmp_path: Path) -> None:
    paths = [
        write_frames(tmp_path / "data" / f"{v:02d}", range(4 + v), seed=v)[0].parent
        for v in range(1, 4)
    ]
    table = table_for({"train": paths[:2], "test": paths[2:]})
    videos = FrameCache(tmp_path / "cache", SMALL, 1, workers=2).load_all(table)
    assert [(v.split, v.video, len(v)) for v in videos] == [
        ("train", "01", 5),
        ("train", "02", 6),
        ("test", "03", 7),
    ]
    assert len({v.folder for v in videos}) == 3


def test_cached_video_pickles_without_memory_map(
    tmp_path: Path, folder: tuple[Path, list[Path]]
) -> None:
    import pickle

    path, _ = folder
    video = FrameCache(tmp_path / "cache", SMALL, 1, workers=1).load(
        table_for({"train": [path]}).iloc[0]
    )
    _ = video.frames
    clone = pickle.loads(pickle.dumps(video))
    assert clone._arrays == {}
    assert np.array_equal(np.asarray(clone.frames), np.asarray(video.frames))


# --- preprocessing stages --------------------------------------------------------------------


class FlipOdd(FrameStage):
    """Flips frames with an odd id left-right and notes it."""

    splits = ("test",)

    def __call__(self, frames: Iterator[Frame], video: str) -> Iterator[Frame]:
        for frame in frames:
            if frame.id % 2:
                frame.image = np.ascontiguousarray(frame.image[:, ::-1])
                frame.info["flipped"] = True
            yield frame


def test_stage_applied_to_its_splits(tmp_path: Path) -> None:
    train_dir = tmp_path / "data" / "train01"
    test_dir = tmp_path / "data" / "test01"
    write_frames(train_dir, range(4), seed=1)
    test_files = write_frames(test_dir, range(2, 7), seed=2)
    table = table_for({"train": [train_dir], "test": [test_dir]})
    train_row, test_row = table.iloc[0], table.iloc[1]
    cache_dir = tmp_path / "cache"
    plain = FrameCache(cache_dir, SMALL, 1, workers=1)
    staged = FrameCache(cache_dir, SMALL, 1, stages=[FlipOdd()], workers=1)

    assert staged.key(train_row) == plain.key(train_row)  # stage does not run on train
    assert staged.key(test_row) != plain.key(test_row)

    train_plain, train_staged = plain.load(train_row), staged.load(train_row)
    assert train_staged.folder == train_plain.folder
    assert train_staged.info.columns.tolist() == []

    test_video = staged.load(test_row)
    assert test_video.frame_ids.tolist() == [2, 3, 4, 5, 6]
    expected = expected_frames(test_files, SMALL, 1)
    for pos, frame_id in enumerate(test_video.frame_ids.tolist()):
        image = cv2.imread(str(test_files[pos]), cv2.IMREAD_GRAYSCALE)
        if frame_id % 2:
            image = image[:, ::-1]
        resized = cv2.resize(image, (SMALL[1], SMALL[0]), interpolation=cv2.INTER_AREA)
        assert np.array_equal(test_video.frames[pos, ..., 0], resized)
        flipped = not np.array_equal(test_video.frames[pos], expected[pos])
        assert flipped == bool(frame_id % 2)
    info = test_video.info
    assert info.index.tolist() == [2, 3, 4, 5, 6]
    assert info.columns.tolist() == ["flipped"]
    assert info.loc[[3, 5], "flipped"].tolist() == [True, True]
    assert info.loc[[2, 4, 6], "flipped"].isna().all()

    unflipped = plain.load(test_row)
    assert unflipped.folder != test_video.folder
    assert np.array_equal(np.asarray(unflipped.frames), expected)
    # the staged entry is reused on a second load, with its notes
    again = FrameCache(cache_dir, SMALL, 1, stages=[FlipOdd()], workers=1).load(test_row)
    assert again.folder == test_video.folder
    assert again.info["flipped"].notna().tolist() == [False, True, False, True, False]


# --- NpyStreamWriter -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "shape"), [(np.uint8, (6, 5, 3)), (np.float32, (4,)), (np.float64, (2, 3))]
)
def test_npy_stream_writer_round_trip(tmp_path: Path, dtype: type, shape: tuple) -> None:
    rng = np.random.default_rng(0)
    items = [(rng.random(shape) * 200).astype(dtype) for _ in range(7)]
    path = tmp_path / "out.npy"
    with NpyStreamWriter(path, dtype) as writer:
        for item in items:
            writer.append(item)
    assert writer.count == 7
    expected = np.stack(items)
    loaded = np.load(path)
    assert loaded.dtype == np.dtype(dtype) and loaded.shape == (7, *shape)
    assert np.array_equal(loaded, expected)  # exact: written and read back unchanged
    mapped = np.load(path, mmap_mode="r")
    assert isinstance(mapped, np.memmap)
    assert mapped.shape == (7, *shape) and np.array_equal(mapped, expected)
    with open(path, "rb") as handle:  # npy 1.0 header padded to 64 bytes
        assert handle.read(8) == b"\x93NUMPY\x01\x00"
        header_len = int.from_bytes(handle.read(2), "little")
    assert (10 + header_len) % 64 == 0
    assert path.stat().st_size == 10 + header_len + expected.nbytes


def test_npy_stream_writer_converts_and_checks_shape(tmp_path: Path) -> None:
    path = tmp_path / "frames.npy"
    with NpyStreamWriter(path) as writer:
        writer.append(np.array([[1.0, 2.0]]))  # converted to uint8
        writer.append(np.asfortranarray(np.array([[3, 4]])))
        with pytest.raises(ValueError, match=r"\(3,\)"):
            writer.append(np.zeros(3))
    loaded = np.load(path)
    assert loaded.dtype == np.uint8 and loaded.tolist() == [[[1, 2]], [[3, 4]]]


def test_npy_stream_writer_empty_and_large_shape(tmp_path: Path) -> None:
    with NpyStreamWriter(tmp_path / "empty.npy"):
        pass
    assert np.load(tmp_path / "empty.npy").shape == (0,)
    writer = NpyStreamWriter(tmp_path / "big.npy")
    writer.append(np.zeros((1, 1080, 1920, 3), np.uint8)[:, :2, :2])
    writer.close()
    writer.close()  # closing twice is harmless
    assert np.load(tmp_path / "big.npy").shape == (1, 1, 2, 2, 3)


def test_decode_error_during_build(tmp_path: Path, folder: tuple[Path, list[Path]]) -> None:
    """A failure to decode while building surfaces as the source's DataError and leaves no entry."""
    path, files = folder
    row = table_for({"train": [path]}).iloc[0]
    files[3].write_bytes(b"not a jpeg")
    cache = FrameCache(tmp_path / "cache", SMALL, 1, workers=1)
    with pytest.raises(DataError, match="cannot decode") as info:
        cache.load(row)
    assert str(files[3]) in str(info.value)
    assert not (tmp_path / "cache" / cache.key(row)).exists()
    leftovers = list((tmp_path / "cache").iterdir())
    assert not any((p / "meta.json").exists() for p in leftovers)


def test_bilinear_resize_samples_where_area_averages() -> None:
    image = np.zeros((240, 360), dtype=np.uint8)
    image[:, 188] = 255  # a 1-pixel line: area averaging spreads it over a 5.6-pixel cell;
    # bilinear samples it (sharp here, gone at other columns: it aliases)
    area = resize_frame(image, 64, 64, 1)
    bilinear = resize_frame(image, 64, 64, 1, resize="bilinear")
    assert bilinear.max() > area.max()
    with pytest.raises(DataError, match=r"data\.resize='nearest'"):
        FrameCache("cache", SMALL, 1, resize="nearest")
