"""Frame sources: a video is a folder of frame images or a video file.

A frame keeps its *original* id everywhere: the last number in its file name for frame folders
(``000.jpg`` -> 0, ``frame_00939.jpg`` -> 939, ``001.tif`` -> 1), or its decode position for
video files.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from vad.data.frame_decoding import decode_frame
from vad.errors import DataError
from vad.utils.sorting import natural_key

log = logging.getLogger(__name__)

FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".mov")
#: formats users hand us that are not read (a file or folder of them is an error, never skipped)
UNSUPPORTED_VIDEO = (
    ".mpg",
    ".mpeg",
    ".webm",
    ".wmv",
    ".flv",
    ".m4v",
    ".3gp",
    ".ts",
    ".mts",
    ".ogv",
)
UNSUPPORTED_FRAMES = (".webp", ".gif", ".jp2", ".ppm", ".pgm", ".pbm", ".exr", ".heic", ".avif")
_NUMBER = re.compile(r"(\d+)")


def frame_id_from_name(path: Path) -> int:
    """The frame id encoded in a frame file name: the last number in its stem."""
    numbers = _NUMBER.findall(Path(path).stem)
    if not numbers:
        raise DataError(f"{path}: frame file name has no frame number (expected e.g. 000.jpg)")
    return int(numbers[-1])


def is_frame_file(path: Path) -> bool:
    """An image file that is not hidden (archives often carry ``._001.tif`` resource forks)."""
    return (
        not path.name.startswith(".") and path.suffix.lower() in FRAME_EXTENSIONS and path.is_file()
    )


def is_video_file(path: Path) -> bool:
    return (
        not path.name.startswith(".") and path.suffix.lower() in VIDEO_EXTENSIONS and path.is_file()
    )


def unsupported_format(path: Path) -> str | None:
    """Why ``path`` (a file or a folder of frames) looks like footage in a format that is not
    read, or None."""
    if path.is_file() and path.suffix.lower() in UNSUPPORTED_VIDEO:
        return (
            f"{path}: {path.suffix} videos are not read ({', '.join(VIDEO_EXTENSIONS)} are); "
            f"convert it, e.g. ffmpeg -i '{path.name}' '{path.stem}.mp4'"
        )
    if path.is_dir() and not any(is_frame_file(p) for p in path.iterdir()):
        found = sorted({p.suffix.lower() for p in path.iterdir()} & set(UNSUPPORTED_FRAMES))
        if found:
            return (
                f"{path}: frames in {', '.join(found)} are not read ({', '.join(FRAME_EXTENSIONS)}"
                " are); convert them, e.g. to .png"
            )
    return None


def read_image(path: Path, channels: int) -> np.ndarray:
    """Read one frame as uint8 (H, W) for ``channels=1`` or RGB (H, W, 3) for ``channels=3``
    (``vad.data.frame_decoding``: depth, alpha, palette, orientation); a dropped alpha channel is
    logged."""
    image, alpha = read_frame(path, channels)
    if alpha:
        log.info("%s: alpha channel dropped (transparency is not used)", path)
    return image


def read_frame(path: Path, channels: int) -> tuple[np.ndarray, bool]:
    """``read_image``'s frame and whether an alpha channel was dropped."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise DataError(f"{path}: frame file is empty (0 bytes)")
    data = np.fromfile(path, dtype=np.uint8)
    if path.suffix.lower() in (".jpg", ".jpeg") and _jpeg_truncated(data):
        raise DataError(
            f"{path}: truncated JPEG (no end-of-image marker): the file was cut short; "
            "re-extract or delete the frame"
        )
    return decode_frame(path, data, channels)


def _jpeg_truncated(data: np.ndarray) -> bool:
    """Whether bytes that start as a JPEG (FF D8) lack the end-of-image marker (FF D9) near
    their end: libjpeg decodes a truncated file with grey rows and only a warning on stderr."""
    return data[:2].tobytes() == b"\xff\xd8" and b"\xff\xd9" not in data[-64:].tobytes()


def convert_channels(frame: np.ndarray, channels: int) -> np.ndarray:
    """Convert a decoded BGR or grey frame to grey (H, W) or RGB (H, W, 3)."""
    if channels == 1:
        return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


@dataclass
class FrameFolder:
    """A video stored as one image file per frame."""

    path: Path
    files: list[Path] = field(init=False)
    ids: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if not self.path.is_dir():
            raise DataError(f"{self.path}: frame folder not found")
        files = sorted(
            (p for p in self.path.iterdir() if is_frame_file(p)), key=lambda p: natural_key(p.name)
        )
        if not files:
            raise DataError(f"{self.path}: no frame images ({', '.join(FRAME_EXTENSIONS)})")
        ids = np.array([frame_id_from_name(p) for p in files], dtype=np.int64)
        _check_unique_increasing(ids, files, self.path)
        self.files, self.ids = files, ids

    def __len__(self) -> int:
        return len(self.files)

    def signature(self) -> list:
        """What identifies the content, for cache keys: names, sizes and modification times."""
        return [(p.name, *_stat(p)) for p in self.files]

    def iter_frames(self, channels: int) -> Iterator[tuple[int, np.ndarray]]:
        shape, noted = None, False
        for frame_id, file in zip(self.ids.tolist(), self.files, strict=True):
            image, alpha = read_frame(file, channels)
            if alpha and not noted:  # one line per video
                log.warning("%s: alpha channel of its frames dropped (first: %s)", self.path, file)
                noted = True
            shape = _check_shape(image, shape, file)
            yield frame_id, image


@dataclass
class VideoFile:
    """A video stored as one file decoded with OpenCV; frame ids are decode positions.

    Container frame counts are unreliable, so the frames are counted by decoding them once; the
    count is remembered per (file, size, modification time) for the rest of the process.
    """

    path: Path
    ids: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if not self.path.is_file():
            raise DataError(f"{self.path}: video file not found")
        if self.path.stat().st_size == 0:
            raise DataError(f"{self.path}: video file is empty (0 bytes)")
        self.ids = np.arange(_count_frames(self.path, *_stat(self.path)), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def signature(self) -> list:
        return [(self.path.name, *_stat(self.path))]

    def iter_frames(self, channels: int) -> Iterator[tuple[int, np.ndarray]]:
        capture = open_video(self.path)
        try:
            for frame_id in self.ids.tolist():
                ok, frame = capture.read()
                if not ok:
                    raise DataError(
                        f"{self.path}: decoding stopped at frame {frame_id} of {len(self.ids)}"
                    )
                yield frame_id, convert_channels(frame, channels)
        finally:
            capture.release()


FrameSource = FrameFolder | VideoFile


def open_source(path: str | Path) -> FrameSource:
    """Open a folder of frames or a video file."""
    path = Path(path)
    if path.is_dir():
        return FrameFolder(path)
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        return VideoFile(path)
    if not path.exists():
        raise DataError(f"{path}: video source not found")
    raise DataError(f"{path}: not a frame folder or a video file ({', '.join(VIDEO_EXTENSIONS)})")


def open_video(path: Path) -> cv2.VideoCapture:
    """An opened ``cv2.VideoCapture`` of ``path`` (the caller releases it)."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise DataError(f"{path}: cannot open video file (corrupt or unsupported codec)")
    return capture


def decode_video(path: Path, channels: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(decode position, image)`` of every frame of a video file, without counting them first
    (streaming: one pass over the file)."""
    capture = open_video(path)
    try:
        frame_id = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield frame_id, convert_channels(frame, channels)
            frame_id += 1
    finally:
        capture.release()


@functools.lru_cache(maxsize=4096)
def _count_frames(path: Path, size: int, mtime_ns: int) -> int:
    capture = open_video(path)
    count = 0
    while capture.grab():
        count += 1
    capture.release()
    if count == 0:
        raise DataError(f"{path}: video file has no decodable frames")
    return count


def _stat(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _check_unique_increasing(ids: np.ndarray, files: list[Path], folder: Path) -> None:
    order = np.argsort(ids, kind="stable")
    dup = np.flatnonzero(np.diff(ids[order]) == 0)
    if dup.size:
        a, b = files[order[dup[0]]], files[order[dup[0] + 1]]
        raise DataError(
            f"{folder}: duplicate frame id {ids[order[dup[0]]]} ({a.name} and {b.name})"
        )
    if np.any(np.diff(ids) < 0):
        raise DataError(f"{folder}: frame numbers do not follow the file name order")


def _check_shape(image: np.ndarray, expected: tuple | None, file: Path) -> tuple:
    if expected is not None and image.shape != expected:
        raise DataError(
            f"{file}: frame size {image.shape[1]}x{image.shape[0]} differs from the "
            f"video's first frame ({expected[1]}x{expected[0]})"
        )
    return image.shape
