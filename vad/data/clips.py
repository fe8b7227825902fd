"""Clips: windows of consecutive frames that never span a gap in the frame ids or two videos.

A video's frame ids split into *runs* wherever an id is not the previous id + 1 (a dropped frame).
A clip of ``length`` frames is a slice of one run, so its frames are one contiguous slice of the
cached array: loading a clip is a single memory-mapped read.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset, Sampler

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
    starts = [
        start + new_clip_starts(0, stop - start, length, stride, complete=True)
        for start, stop in contiguous_runs(frame_ids)
    ]
    starts = [s for s in starts if len(s)]
    return np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)


def new_clip_starts(
    before: int, after: int, length: int, stride: int = 1, complete: bool = False
) -> np.ndarray:
    """Offsets (from the run's first frame) of the clips of one run that can be cut once it has
    grown from ``before`` to ``after`` frames: every ``stride``-th window, and, when the run is
    ``complete`` (ends at ``after``), its last window if the stride skipped it.

    ``clip_starts`` applies it to whole runs; streaming inference applies it frame by frame, so
    both cut the same clips.
    """
    if length < 1 or stride < 1:
        raise ValueError(f"clip length and stride must be >= 1, got {length}, {stride}")
    last = after - length
    first = max(0, before - length + 1)
    first += -first % stride  # the first stride multiple at or after it
    starts = np.arange(first, last + 1, stride, dtype=np.int64)
    if complete and last >= 0 and last % stride:
        starts = np.append(starts, last)
    return starts


class ClipDataset(Dataset):
    """Clips of ``length`` frames over cached videos.

    An item is ``{"frames": uint8 (L, H, W, C), "video": str, "frame_ids": int64 (L,)}`` plus one
    entry per extra modality (e.g. ``"flow"``) sliced the same way. Conversion to float happens on
    the model's device (see ``VADModule.on_after_batch_transfer``), which keeps the loader cheap.

    With ``skip_probability`` > 0 (training clips with skip-frame pseudo-anomalies, Astrid et al.
    BMVC 2021), each item also holds ``skip`` (int64: 0, or the frame step drawn from ``skips``)
    and ``skip_frames`` / ``skip_ids``: the frames ``start, start + skip, ...`` of the same run
    (never across a gap or a video; original ids kept). With probability ``skip_probability`` a
    step is drawn among the ``skips`` that fit in the run; otherwise (or when none fits) ``skip``
    is 0 and ``skip_frames`` repeats the clip.
    """

    def __init__(
        self,
        videos: Sequence[CachedVideo],
        length: int,
        stride: int = 1,
        modalities: Sequence[str] = ("frames",),
        skips: Sequence[int] = (),
        skip_probability: float = 0.0,
    ) -> None:
        self.videos, self.length, self.modalities = list(videos), length, tuple(modalities)
        if not 0 <= skip_probability <= 1 or any(int(j) < 2 for j in skips):
            raise ValueError(
                f"skip_probability must be in [0, 1] and skips >= 2, got {skip_probability}, "
                f"{list(skips)}"
            )
        self.skips, self.skip_probability = sorted(int(j) for j in skips), float(skip_probability)
        index = []
        for v, video in enumerate(self.videos):
            for start, stop in contiguous_runs(video.frame_ids):
                for s in new_clip_starts(0, stop - start, length, stride, complete=True):
                    index.append((v, start + int(s), stop))
        self.index = np.asarray(index, dtype=np.int64).reshape(-1, 3)[:, :2]
        self.run_stops = np.asarray(index, dtype=np.int64).reshape(-1, 3)[:, 2]

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
        if self.skip_probability > 0:
            skip = self._draw_skip(int(start), int(self.run_stops[i]))
            positions = int(start) + (skip or 1) * np.arange(self.length)
            item["skip"] = torch.tensor(skip, dtype=torch.int64)
            item["skip_frames"] = torch.from_numpy(np.array(video.frames[positions]))
            item["skip_ids"] = torch.from_numpy(video.frame_ids[positions].copy())
        return item

    def _draw_skip(self, start: int, stop: int) -> int:
        """A frame step whose clip from ``start`` ends before ``stop``, or 0 (torch's RNG)."""
        if torch.rand(()).item() >= self.skip_probability:
            return 0
        fits = [j for j in self.skips if start + (self.length - 1) * j < stop]
        return fits[int(torch.randint(len(fits), ()).item())] if fits else 0


def memory_video(
    video: str,
    arrays: dict[str, np.ndarray],
    frame_ids: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    split: str = "val",
) -> CachedVideo:
    """A video held in memory (e.g. frames rearranged into a pseudo-anomaly) that clips and the
    scorer read like a cached one; ids default to the frame positions."""
    count = len(next(iter(arrays.values())))
    ids = np.arange(count, dtype=np.int64) if frame_ids is None else np.asarray(frame_ids)
    info = pd.DataFrame(index=pd.Index(ids, name="frame"))
    return CachedVideo(split, video, video, Path(video), ids, ids, labels, info, dict(arrays))


class VideoBatchSampler(Sampler[list[int]]):
    """Batches of clips from different videos: each batch picks ``batch_size`` videos at random
    (without replacement while there are enough) and one random clip of each. An epoch has
    ``len(clip_videos) // batch_size`` batches (at least one); the order follows torch's RNG.

    ``clip_videos``: the video index of every clip of the dataset.
    """

    def __init__(self, clip_videos: np.ndarray, batch_size: int) -> None:
        self.clip_videos, self.batch_size = np.asarray(clip_videos), int(batch_size)
        videos = np.unique(self.clip_videos)
        self.clips = [torch.from_numpy(np.flatnonzero(self.clip_videos == v)) for v in videos]
        if not self.clips or self.batch_size < 1:
            raise ValueError("need at least one clip and batch_size >= 1")

    def __len__(self) -> int:
        return max(1, len(self.clip_videos) // self.batch_size)

    def __iter__(self):
        count = len(self.clips)
        for _ in range(len(self)):
            if count >= self.batch_size:
                chosen = torch.randperm(count)[: self.batch_size]
            else:
                chosen = torch.randint(count, (self.batch_size,))
            batch = []
            for v in chosen.tolist():
                clips = self.clips[v]
                batch.append(int(clips[torch.randint(len(clips), ()).item()]))
            yield batch
