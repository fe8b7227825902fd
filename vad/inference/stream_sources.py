"""The footage of ``predict.py source=...``: a video file, a folder of frames or a folder of videos,
read one frame at a time (a video file is decoded once, never counted first)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vad.data.layouts.layout import video_entries
from vad.data.sources import (
    VIDEO_EXTENSIONS,
    FrameFolder,
    decode_video,
    is_frame_file,
    open_video,
)
from vad.errors import DataError


@dataclass
class StreamSource:
    """One video of the footage: its id, path and frame rate (None: unknown)."""

    video: str
    path: Path
    fps: float | None

    def frames(self, channels: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(frame id, uint8 image)`` in order: file-name ids for frame folders, decode
        positions for video files."""
        if self.path.is_dir():
            return FrameFolder(self.path).iter_frames(channels)
        return decode_video(self.path, channels)


def list_sources(path: str | Path) -> list[StreamSource]:
    """The videos of ``path``, each checked (exists, opens, has frames) before any is scored."""
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
