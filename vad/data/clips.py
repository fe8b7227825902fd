"""Clips: windows of consecutive frames that never span a gap in the frame ids or two videos.

A video's frame ids split into *runs* wherever an id is not the previous id + 1 (a dropped frame).
A clip of ``length`` frames is a slice of one run, so its frames are one contiguous slice of the
cached array: loading a clip is a single memory-mapped read.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from vad.data.cache import CachedVideo


def contiguous_runs(frame_ids: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` positions of the runs of consecutive ids (stop is exclusive)."""
    ids = np.asarray(frame_ids)
    if ids.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(ids) != 1) + 1
    edges = [0, *breaks.tolist(), len(ids)]
    return list(itertools.pairwise(edges))


def clip_starts(frame_ids: np.ndarray, length: int, stride: int = 1) -> np.ndarray:
    """Start positions of all windows of ``length`` frames inside runs, every ``stride`` frames.

    With ``stride > 1`` the last window of each run is always kept, so that the run's last frames
    are covered.
    """
    if length < 1 or stride < 1:
        raise ValueError(f"clip length and stride must be >= 1, got {length}, {stride}")
    starts = []
    for start, stop in contiguous_runs(frame_ids):
        last = stop - length
        if last < start:
            continue
        run = np.arange(start, last + 1, stride)
        if run[-1] != last:
            run = np.append(run, last)
        starts.append(run)
    return np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)


class ClipDataset(Dataset):
    """Clips of ``length`` frames over cached videos.

    An item is ``{"frames": uint8 (L, H, W, C), "video": str, "frame_ids": int64 (L,)}`` plus one
    entry per extra modality (e.g. ``"flow"``) sliced the same way. Conversion to float happens on
    the model's device (see ``VADModule.on_after_batch_transfer``), which keeps the loader cheap.
    """

    def __init__(
        self,
        videos: Sequence[CachedVideo],
        length: int,
        stride: int = 1,
        modalities: Sequence[str] = ("frames",),
    ) -> None:
        self.videos, self.length, self.modalities = list(videos), length, tuple(modalities)
        index = [
            (v, s)
            for v, video in enumerate(self.videos)
            for s in clip_starts(video.frame_ids, length, stride).tolist()
        ]
        self.index = np.asarray(index, dtype=np.int64).reshape(-1, 2)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict:
        v, start = self.index[i]
        video = self.videos[v]
        window = slice(int(start), int(start) + self.length)
        item = {
            name: torch.from_numpy(np.array(video.array(name)[window])) for name in self.modalities
        }
        item["video"] = video.video
        item["frame_ids"] = torch.from_numpy(video.frame_ids[window].copy())
        return item
