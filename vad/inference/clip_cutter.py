"""Clips cut from a stream as its frames arrive, by the data layer's clip rules.

``vad.data.clips.new_clip_starts`` decides which windows of a run of consecutive frame ids are
clips, so a streamed video is cut exactly as ``ClipDataset`` cuts the cached one: every
``stride``-th window of each run, its last window when the stride skipped it, never across a gap.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from vad.data.clips import new_clip_starts


@dataclass
class Clip:
    """``length`` consecutive frames: ``start`` is the stream position of the first one."""

    start: int
    ids: np.ndarray
    arrays: dict[str, np.ndarray]


class ClipCutter:
    """Cuts clips of ``length`` frames from frames pushed one at a time (ids in stream order)."""

    def __init__(self, length: int, stride: int = 1) -> None:
        new_clip_starts(0, 0, length, stride)  # validates length and stride
        self.length, self.stride = length, stride
        self.buffer: deque[tuple[int, dict[str, np.ndarray]]] = deque(maxlen=length)
        self.pushed = 0  # frames seen in the stream
        self.run_start = 0  # stream position of the current run's first frame

    def push(self, frame_id: int, arrays: dict[str, np.ndarray]) -> list[Clip]:
        """Add a frame; returns the clips it completes (a gap before it ends the previous run)."""
        clips = []
        if self.buffer and frame_id != self.buffer[-1][0] + 1:
            clips += self.end_run()
        self.buffer.append((frame_id, arrays))
        self.pushed += 1
        run = self.pushed - self.run_start
        return clips + self._cut(new_clip_starts(run - 1, run, self.length, self.stride))

    def end_run(self) -> list[Clip]:
        """The current run's last window when the stride skipped it; starts a new run."""
        run = self.pushed - self.run_start
        clips = self._cut(new_clip_starts(run, run, self.length, self.stride, complete=True))
        self.buffer.clear()
        self.run_start = self.pushed
        return clips

    def earliest_future_start(self) -> int:
        """No clip cut later starts before this stream position."""
        return max(self.run_start, self.pushed - self.length)

    def _cut(self, offsets: np.ndarray) -> list[Clip]:
        """Clips at run ``offsets``; only the window ending at the newest frame can be cut."""
        clips = []
        for offset in offsets.tolist():
            start = self.run_start + offset
            if start != self.pushed - self.length:
                raise RuntimeError(f"clip at {start} is not the buffered window")
            ids = np.array([i for i, _ in self.buffer], dtype=np.int64)
            names = self.buffer[0][1].keys()
            arrays = {n: np.stack([a[n] for _, a in self.buffer]) for n in names}
            clips.append(Clip(start, ids, arrays))
        return clips
