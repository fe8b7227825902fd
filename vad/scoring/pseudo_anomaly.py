"""Pseudo-anomalies in held-out *normal* videos: a label-free way to compare scores and models.

Validation videos hold no anomaly, so one is simulated: in copies of each validation video a
segment is played ``factor`` times faster (every factor-th frame; the frames after it follow on
without a jump). Faster-than-walking motion is the signature of Ped2's cyclists, skaters and carts
and the "skip frame" pseudo-anomaly of Astrid et al. (BMVC 2021). The copies are scored like test
videos (through the one scorer) and the sped-up frames are the positives.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from vad.data.cache import CachedVideo
from vad.data.clips import memory_video
from vad.errors import DataError
from vad.scoring.scorer import Scorer


def speed_up(length: int, start: int, span: int, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame positions of a video of ``length`` frames whose ``span`` frames from ``start`` are
    played ``factor`` x faster, and their labels (1 = sped up)."""
    if start < 0 or span < 1 or factor < 1 or start + span * factor > length:
        raise ValueError(f"cannot speed up {span} frames x{factor} from {start} of {length}")
    fast = start + factor * np.arange(span)
    positions = np.concatenate([np.arange(start), fast, np.arange(start + span * factor, length)])
    labels = np.zeros(len(positions), dtype=np.uint8)
    labels[start : start + span] = 1
    return positions, labels


def pseudo_anomalies(
    frames: np.ndarray, clip_length: int, factor: int, copies: int = 2
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """``(start, frames, labels)`` for ``copies`` sped-up copies of one video; the segment is
    ``clip_length`` frames long and stays at least half a clip from either end."""
    span, margin = clip_length, max(1, clip_length // 2)
    last = len(frames) - span * factor - margin
    if last < margin:
        raise DataError(
            f"a validation video of {len(frames)} frames is too short for a x{factor} "
            f"segment of {span} frames with {margin}-frame margins"
        )
    for start in np.unique(np.linspace(margin, last, copies).astype(int)).tolist():
        positions, labels = speed_up(len(frames), start, span, factor)
        yield start, np.asarray(frames[positions]), labels


def sped_up_videos(
    videos: Sequence[CachedVideo], clip_length: int, factor: int, copies: int = 2
) -> list[CachedVideo]:
    """In-memory sped-up copies (``<video>@<start>x<factor>``) of ``videos``, labelled."""
    return [
        memory_video(f"{video.video}@{start}x{factor}", {"frames": frames}, labels=labels)
        for video in videos
        for start, frames, labels in pseudo_anomalies(video.frames, clip_length, factor, copies)
    ]


def pseudo_scores(
    scorer: Scorer, videos: Sequence[CachedVideo], factor: int, batch_size: int = 16
) -> pd.DataFrame:
    """Raw score columns of sped-up copies of ``videos``, aggregated per frame (no derived
    columns), with their pseudo labels."""
    copies = sped_up_videos(videos, scorer.model.clip_length, factor)
    tables = []
    for copy in copies:
        rows = [scorer.rows(out) for out in scorer.predictions([copy], batch_size)]
        raw = pd.concat(rows, ignore_index=True)
        table = raw.groupby(["video", "frame"], sort=True).agg(scorer.aggregate).reset_index()
        table["label"] = copy.labels[table["frame"].to_numpy()]
        tables.append(table)
    return pd.concat(tables, ignore_index=True)
