"""Frame sources: frame id parsing, natural order, frame folders, video files and bad inputs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers import moving_square, write_frames, write_video
from vad.data.sources import (
    FrameFolder,
    VideoFile,
    frame_id_from_name,
    natural_key,
    open_source,
)
from vad.errors import DataError


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("000.jpg", 0),
        ("frame_00939.jpg", 939),
        ("001.tif", 1),
        ("img_2_frame_10.png", 10),
        ("0123.bmp", 123),
    ],
)
def test_frame_id_from_name(name: str, expected: int) -> None:
    assert frame_id_from_name(Path(name)) == expected


def test_frame_id_without_number_names_file() -> None:
    with pytest.raises(DataError, match=r"frame_last\.jpg"):
        frame_id_from_name(Path("frame_last.jpg"))


def test_natural_sort() -> None:
    names = ["frame_10.jpg", "frame_2.jpg", "frame_1.jpg", "Frame_3.jpg", "frame_0.jpg"]
    assert sorted(names, key=natural_key) == [
        "frame_0.jpg",
        "frame_1.jpg",
        "frame_2.jpg",
        "Frame_3.jpg",
        "frame_10.jpg",
    ]
    assert sorted(["b", "a10", "a9"], key=natural_key) == ["a9", "a10", "b"]


def test_frame_folder_ids_and_natural_order(tmp_path: Path) -> None:
    folder = tmp_path / "video"
    write_frames(folder, [10, 2, 1, 100], pattern="frame_{}.jpg")
    source = FrameFolder(folder)
    assert [p.name for p in source.files] == [
        "frame_1.jpg",
        "frame_2.jpg",
        "frame_10.jpg",
        "frame_100.jpg",
    ]
    assert source.ids.dtype == np.int64
    assert source.ids.tolist() == [1, 2, 10, 100]
    assert len(source) == 4


def test_frame_folder_keeps_gaps_and_padded_ids(tmp_path: Path) -> None:
    folder = tmp_path / "01"
    write_frames(folder, [3, 4, 5, 7, 12], pattern="frame_{:05d}.jpg")
    assert FrameFolder(folder).ids.tolist() == [3, 4, 5, 7, 12]


def test_hidden_and_non_frame_files_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "Train001"
    write_frames(folder, [1, 2, 3], pattern="{:03d}.tif")
    (folder / "._001.tif").write_bytes(b"\x00\x05\x16\x07 resource fork")
    (folder / ".DS_Store").write_bytes(b"junk")
    (folder / "notes.txt").write_text("not a frame")
    (folder / "Thumbs.db").write_bytes(b"junk")
    source = FrameFolder(folder)
    assert [p.name for p in source.files] == ["001.tif", "002.tif", "003.tif"]
    assert source.ids.tolist() == [1, 2, 3]
    frames = list(source.iter_frames(1))
    assert [i for i, _ in frames] == [1, 2, 3]


@pytest.mark.parametrize("pattern", ["{:03d}.jpg", "{:03d}.png", "{:03d}.tif", "{:03d}.bmp"])
def test_frame_folder_decode_grey_and_rgb(tmp_path: Path, pattern: str) -> None:
    folder = tmp_path / "v"
    write_frames(folder, range(4), pattern=pattern, size=(48, 64))
    source = FrameFolder(folder)
    grey = list(source.iter_frames(1))
    assert [i for i, _ in grey] == [0, 1, 2, 3]
    for frame_id, image in grey:
        assert image.shape == (48, 64) and image.dtype == np.uint8
        expected = moving_square(frame_id, (48, 64)).astype(int)
        tolerance = 0 if pattern != "{:03d}.jpg" else 12
        assert np.abs(image.astype(int) - expected).mean() <= tolerance
    rgb = list(source.iter_frames(3))
    assert [i for i, _ in rgb] == [0, 1, 2, 3]
    for (_, g), (_, c) in zip(grey, rgb, strict=True):
        assert c.shape == (48, 64, 3) and c.dtype == np.uint8
        # grey frames written as grey: the three channels are equal and match the grey read
        assert np.array_equal(c[..., 0], c[..., 1]) and np.array_equal(c[..., 1], c[..., 2])
        assert np.abs(c[..., 0].astype(int) - g.astype(int)).max() <= 1


def test_frame_folder_rgb_is_rgb_not_bgr(tmp_path: Path) -> None:
    folder = tmp_path / "colour"
    folder.mkdir()
    image = np.zeros((8, 8, 3), np.uint8)
    image[..., 2] = 200  # red in OpenCV's BGR order
    cv2.imwrite(str(folder / "000.png"), image)
    ((_, rgb),) = FrameFolder(folder).iter_frames(3)
    assert rgb[0, 0].tolist() == [200, 0, 0]


def test_16bit_frames_are_read_as_uint8(tmp_path: Path) -> None:
    folder = tmp_path / "deep"
    folder.mkdir()
    image = np.linspace(0, 60000, 8 * 8).reshape(8, 8).astype(np.uint16)
    cv2.imwrite(str(folder / "000.png"), image)
    ((_, grey),) = FrameFolder(folder).iter_frames(1)
    # OpenCV reduces 16-bit images to their high byte
    assert grey.dtype == np.uint8 and grey.shape == (8, 8)
    assert np.abs(grey.astype(int) - image.astype(int) // 256).max() <= 1


def test_video_file_decode(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.avi", 7, size=(48, 64))
    source = VideoFile(path)
    assert source.ids.dtype == np.int64
    assert source.ids.tolist() == list(range(7))
    assert len(source) == 7
    grey = list(source.iter_frames(1))
    assert [i for i, _ in grey] == list(range(7))
    for frame_id, image in grey:
        assert image.shape == (48, 64) and image.dtype == np.uint8
        assert np.abs(image.astype(int) - moving_square(frame_id).astype(int)).mean() < 12
    rgb = list(source.iter_frames(3))
    assert len(rgb) == 7
    assert all(image.shape == (48, 64, 3) and image.dtype == np.uint8 for _, image in rgb)


def test_open_source_dispatch(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    write_frames(folder, range(3))
    video = write_video(tmp_path / "movie.avi", 5)
    assert isinstance(open_source(folder), FrameFolder)
    assert isinstance(open_source(str(video)), VideoFile)
    assert len(open_source(video)) == 5
    other = tmp_path / "labels.csv"
    other.write_text("a,b\n")
    with pytest.raises(DataError, match=r"labels\.csv"):
        open_source(other)


def test_signature_changes_with_content(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    files = write_frames(folder, range(3))
    before = FrameFolder(folder).signature()
    assert [entry[0] for entry in before] == ["000.jpg", "001.jpg", "002.jpg"]
    cv2.imwrite(str(files[1]), np.zeros((48, 64), np.uint8))
    assert FrameFolder(folder).signature() != before


# --- bad inputs: each raises DataError naming the file ----------------------------------------


def _read_all(source) -> list:
    return list(source.iter_frames(1))


def test_zero_byte_frame(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    write_frames(folder, range(3))
    (folder / "001.jpg").write_bytes(b"")
    with pytest.raises(DataError, match="empty") as info:
        _read_all(open_source(folder))
    assert str(folder / "001.jpg") in str(info.value)


def test_corrupt_jpg(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    write_frames(folder, range(3))
    bad = folder / "002.jpg"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes())
    source = open_source(folder)
    with pytest.raises(DataError, match="cannot decode") as info:
        _read_all(source)
    assert str(bad) in str(info.value)


def test_text_file_renamed_png(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    folder.mkdir()
    bad = folder / "000.png"
    bad.write_text("this is not an image\n")
    with pytest.raises(DataError, match="cannot decode") as info:
        _read_all(FrameFolder(folder))
    assert str(bad) in str(info.value)


def test_non_numeric_frame_name(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    write_frames(folder, range(2))
    write_frames(folder, [0], pattern="cover.jpg")
    with pytest.raises(DataError, match="no frame number") as info:
        FrameFolder(folder)
    assert "cover.jpg" in str(info.value)


def test_duplicate_frame_ids(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    write_frames(folder, [1, 2, 3], pattern="frame_{}.jpg")
    write_frames(folder, [2], pattern="frame_{:02d}.jpg")
    with pytest.raises(DataError, match="duplicate frame id 2") as info:
        FrameFolder(folder)
    message = str(info.value)
    assert str(folder) in message
    assert "frame_2.jpg" in message and "frame_02.jpg" in message


def test_frame_numbers_against_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    write_frames(folder, [5], pattern="a_{}.jpg")
    write_frames(folder, [1], pattern="b_{}.jpg")
    with pytest.raises(DataError, match="do not follow") as info:
        FrameFolder(folder)
    assert str(folder) in str(info.value)


def test_empty_folder(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "._000.jpg").write_bytes(b"junk")  # hidden files do not count
    with pytest.raises(DataError, match="no frame images") as info:
        open_source(folder)
    assert str(folder) in str(info.value)


def test_mixed_frame_sizes(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    write_frames(folder, range(3), size=(48, 64))
    write_frames(folder, [3], size=(40, 64))
    source = FrameFolder(folder)  # sizes are only known when decoding
    frames = source.iter_frames(1)
    assert [next(frames)[0] for _ in range(3)] == [0, 1, 2]
    with pytest.raises(DataError, match="differs") as info:
        next(frames)
    message = str(info.value)
    assert str(folder / "003.jpg") in message
    assert "64x40" in message and "64x48" in message


def test_unopenable_video(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.avi"
    bad.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(DataError, match="video") as info:
        open_source(bad)
    assert str(bad) in str(info.value)


def test_zero_byte_video(tmp_path: Path) -> None:
    bad = tmp_path / "empty.mp4"
    bad.write_bytes(b"")
    with pytest.raises(DataError, match="empty") as info:
        open_source(bad)
    assert str(bad) in str(info.value)


@pytest.mark.parametrize("name", ["missing_folder", "missing.avi", "missing.jpg"])
def test_missing_path(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with pytest.raises(DataError, match="not found") as info:
        open_source(path)
    assert str(path) in str(info.value)


def test_missing_path_direct_constructors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found") as info:
        FrameFolder(tmp_path / "nope")
    assert "nope" in str(info.value)
    with pytest.raises(DataError, match="not found") as info:
        VideoFile(tmp_path / "nope.avi")
    assert "nope.avi" in str(info.value)
