"""The footage of ``predict.py source=...``: a video file, a folder of frames, a folder of videos,
a camera (``source=0``: OpenCV's device index) or a stream URL (``source=rtsp://...``, any URL
OpenCV's ``VideoCapture`` opens), read one frame at a time (a video file is decoded once, never
counted first; a camera or stream is read until it ends)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vad.data.layouts.layout import video_entries
from vad.data.sources import (
    VIDEO_EXTENSIONS,
    FrameFolder,
    convert_channels,
    decode_video,
    is_frame_file,
    open_video,
)
from vad.errors import DataError


@dataclass
class StreamSource:
    """One video of the footage: its id, path and frame rate (None: unknown); ``capture`` is
    the camera index or URL of a live source (its ``path`` is then only a label)."""

    video: str
    path: Path
    fps: float | None
    capture: int | str | None = None

    @property
    def location(self) -> str:
        """Where the footage comes from, as the user named it."""
        return str(self.path) if self.capture is None else str(self.capture)

    def frames(self, channels: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(frame id, uint8 image)`` in order: file-name ids for frame folders, decode
        positions for video files, cameras and streams."""
        if self.capture is not None:
            return read_capture(self.capture, channels)
        if self.path.is_dir():
            return FrameFolder(self.path).iter_frames(channels)
        return decode_video(self.path, channels)


def list_sources(path: str | Path | int) -> list[StreamSource]:
    """The videos of ``path``, each checked (exists, opens, has frames) before any is scored."""
    live = live_capture(path)
    if live is not None:
        return [_live_source(live)]
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: source not found (a video file, frame folder or video folder)")
    if path.is_file():
        return [_video_file(path)]
    if any(is_frame_file(p) for p in path.iterdir()):
        return [_frame_folder(path)]
    sources = [_frame_folder(p) if p.is_dir() else _video_file(p) for p in video_entries(path)]
    seen: dict[str, Path] = {}
    for source in sources:
        if source.video in seen:
            raise DataError(
                f"{path}: two videos share the id {source.video!r} "
                f"({seen[source.video].name} and {source.path.name})"
            )
        seen[source.video] = source.path
    return sources


def _frame_folder(path: Path) -> StreamSource:
    FrameFolder(path)  # checks the frame names and ids
    return StreamSource(path.name, path, None)


def _video_file(path: Path) -> StreamSource:
    if path.suffix.lower() not in VIDEO_EXTENSIONS:
        raise DataError(
            f"{path}: not a video file ({', '.join(VIDEO_EXTENSIONS)}) or a folder of frames"
        )
    if path.stat().st_size == 0:
        raise DataError(f"{path}: video file is empty (0 bytes)")
    capture = open_video(path)
    fps = capture.get(cv2.CAP_PROP_FPS)
    ok = capture.grab()
    capture.release()
    if not ok:
        raise DataError(f"{path}: video file has no decodable frames")
    return StreamSource(path.stem, path, float(fps) if fps and np.isfinite(fps) else None)


def live_capture(source: str | Path | int) -> int | str | None:
    """The camera index (``0``, ``"1"``) or URL (``scheme://...``) that ``source`` names, or
    None for a path."""
    if isinstance(source, int) and not isinstance(source, bool):
        return source
    text = str(source).strip()
    if text.isdigit():
        return int(text)
    return text if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text) else None


def read_capture(capture: int | str, channels: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(read position, image)`` of a camera or stream until it ends (or fails to read)."""
    reader = _open_capture(capture)
    try:
        frame_id = 0
        while True:
            ok, frame = reader.read()
            if not ok or frame is None:
                return
            yield frame_id, convert_channels(frame, channels)
            frame_id += 1
    finally:
        reader.release()


def _live_source(capture: int | str) -> StreamSource:
    reader = _open_capture(capture)
    fps = reader.get(cv2.CAP_PROP_FPS)
    reader.release()
    if isinstance(capture, int):
        name = f"camera{capture}"
    else:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", capture.split("://", 1)[1]).strip("_") or "stream"
    fps = float(fps) if fps and np.isfinite(fps) and fps > 0 else None
    return StreamSource(name, Path(name), fps, capture)


def _open_capture(capture: int | str) -> cv2.VideoCapture:
    reader = cv2.VideoCapture(capture)
    if not reader.isOpened():
        reader.release()
        kind = "camera" if isinstance(capture, int) else "stream URL"
        raise DataError(
            f"source={capture}: cannot open the {kind} with OpenCV's VideoCapture "
            "(no such device, unreachable address or unsupported protocol)"
        )
    return reader
