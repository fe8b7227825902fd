"""Temporal smoothing of scores within each video, along the true frame ids.

Kernels depend on the distance in frame ids, not in rows: a dropped frame (gap in the ids) is a gap
for the kernel too, and no kernel ever reaches into another video. At the ends of a video (and next
to gaps) the kernel is renormalised over the frames that exist.

    gaussian  weights exp(-d^2 / 2 sigma^2) over |d| <= ceil(4 sigma) ids (scipy's truncation);
              sigma = 3 is AI-VAD's choice (Reiss & Hoshen, 2023), also used by later object-centric
              methods; FFP reports unsmoothed scores
    median    median over the frames within (size // 2) ids: removes isolated spikes, keeps steps

Both are centred (non-causal) filters: an online detector would report with a delay of the kernel
radius.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from vad.errors import ScoreFileError
from vad.scoring.groups import video_groups


def _neighbours(values: np.ndarray, ids: np.ndarray, radius: int) -> np.ndarray:
    """(N, 2 radius + 1) values of the frames at id distance -radius..radius (NaN where no frame).

    ``ids`` sorted and unique: a frame within ``radius`` ids is within ``radius`` rows.
    """
    n = len(values)
    out = np.full((n, 2 * radius + 1), np.nan)
    out[:, radius] = values
    for k in range(1, min(radius, n - 1) + 1):
        distance = ids[k:] - ids[:-k]  # >= k: ids are unique and sorted
        rows = np.flatnonzero(distance <= radius)
        offset = distance[rows]
        out[rows, radius + offset] = values[k:][rows]
        out[rows + k, radius - offset] = values[:-k][rows]
    return out


def gaussian_smooth(values: np.ndarray, frame_ids: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-weighted mean over frames within ``ceil(4 sigma)`` ids (ids sorted, unique)."""
    values = np.asarray(values, dtype=np.float64)
    if sigma <= 0 or len(values) < 2:
        return values.copy()
    ids = np.asarray(frame_ids, dtype=np.int64)
    radius = math.ceil(4 * sigma)
    window = _neighbours(values, ids, radius)
    offsets = np.arange(-radius, radius + 1)
    weights = np.where(np.isnan(window), 0.0, np.exp(-(offsets**2) / (2 * sigma**2)))
    return (np.nan_to_num(window) * weights).sum(axis=1) / weights.sum(axis=1)


def median_smooth(values: np.ndarray, frame_ids: np.ndarray, size: int) -> np.ndarray:
    """Median over the frames within ``size // 2`` ids of each frame (ids sorted, unique)."""
    values = np.asarray(values, dtype=np.float64)
    radius = int(size) // 2
    if radius < 1 or len(values) < 2:
        return values.copy()
    window = _neighbours(values, np.asarray(frame_ids, dtype=np.int64), radius)
    return np.nanmedian(window, axis=1)


def smooth(
    scores: pd.Series, videos: pd.Series, frames: pd.Series, sigma: float, median: int = 0
) -> pd.Series:
    """Median filter (window ``median`` frames, 0 = off), then Gaussian (``sigma``, 0 = off), each
    video separately along its frame ids."""
    values = scores.to_numpy(dtype=np.float64)
    if sigma <= 0 and median <= 1:
        return pd.Series(values, index=scores.index)
    out = np.empty_like(values)
    ids = frames.to_numpy()
    for positions in video_groups(videos):
        order = positions[np.argsort(ids[positions], kind="stable")]
        if (np.diff(ids[order]) == 0).any():
            video = videos.iloc[order[0]]
            raise ScoreFileError(f"video {video!r}: a frame id appears twice; cannot smooth")
        filtered = median_smooth(values[order], ids[order], median)
        out[order] = gaussian_smooth(filtered, ids[order], sigma)
    return pd.Series(out, index=scores.index)
