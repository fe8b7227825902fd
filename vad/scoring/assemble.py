"""Turn raw per-clip score rows into exactly one row per frame of every scored video."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from vad.data.cache import CachedVideo
from vad.errors import ScoreFileError
from vad.io.scores import KEY, sort_scores
from vad.scoring.frame_scores import LOWER_IS_ANOMALOUS


def assemble_scores(
    raw: pd.DataFrame, videos: Sequence[CachedVideo], aggregate: str = "mean"
) -> pd.DataFrame:
    """One row per frame of each video, keyed by the frame's original id.

    A frame scored by several clips (or objects) gets the ``aggregate`` of its scores, NaN-aware:
    "mean", or "max", the most anomalous value (the minimum of a column whose lower values are
    anomalous, PSNR). Frames that no clip scored (the first frames of a run, before its first
    full clip) take the score of the nearest scored frame of the same video and are flagged
    ``filled = 1``.
    Frames a preprocessing stage added (interpolated) are dropped. Labels and per-frame notes of
    the cached videos are joined.
    """
    if aggregate not in ("mean", "max"):
        raise ValueError(f"aggregate must be 'mean' or 'max', got {aggregate!r}")
    columns = [c for c in raw.columns if c not in KEY]
    how = {c: _most_anomalous(c) if aggregate == "max" else aggregate for c in columns}
    merged = raw.groupby(KEY, sort=False)[columns].agg(how) if len(raw) else None
    parts = [_video_rows(merged, video, columns) for video in videos]
    return sort_scores(pd.concat(parts, ignore_index=True))


def _most_anomalous(column: str) -> str:
    return "min" if column in LOWER_IS_ANOMALOUS else "max"


def _video_rows(
    merged: pd.DataFrame | None, video: CachedVideo, columns: list[str]
) -> pd.DataFrame:
    ids = np.asarray(video.source_ids)
    rows = None
    if merged is not None and video.video in merged.index.get_level_values(0):
        rows = merged.xs(video.video, level="video")
    if rows is None or rows.empty:
        raise ScoreFileError(
            f"video {video.video!r} ({video.source}): no frame was scored; it "
            "has no clip of consecutive frames long enough for the model"
        )
    scored = rows.index.to_numpy()
    nearest = nearest_scored(scored, ids)
    table = rows.iloc[nearest].reset_index(drop=True)
    table.insert(0, "frame", ids)
    table.insert(0, "video", video.video)
    table["filled"] = (~np.isin(ids, scored)).astype(np.uint8)
    if video.labels is not None:
        table["label"] = np.asarray(video.labels, dtype=np.uint8)
    notes = video.info.reindex(ids)
    for name in notes.columns:
        table[name] = notes[name].to_numpy()
    return table


def nearest_scored(scored: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Index into sorted ``scored`` of the nearest scored id for every id (ties: the later one)."""
    order = np.argsort(scored)
    sorted_ids = scored[order]
    right = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
    left = np.clip(right - 1, 0, len(sorted_ids) - 1)
    use_left = np.abs(ids - sorted_ids[left]) < np.abs(sorted_ids[right] - ids)
    return order[np.where(use_left, left, right)]
