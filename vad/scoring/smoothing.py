"""Temporal smoothing of scores within each video, along the true frame ids.

Weights depend on the distance in frame ids, not in rows: a dropped frame (gap in the ids) is a
gap for the kernel too, and no kernel ever reaches into another video.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from vad.scoring.groups import video_groups


def gaussian_smooth(values: np.ndarray, frame_ids: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-weighted mean over frames within ``4 sigma`` ids (ids sorted, unique)."""
    values = np.asarray(values, dtype=np.float64)
    if sigma <= 0 or len(values) < 2:
        return values.copy()
    ids = np.asarray(frame_ids, dtype=np.float64)
    radius = math.ceil(4 * sigma)
    num, den = values.copy(), np.ones_like(values)
    for k in range(1, min(radius, len(values) - 1) + 1):
        distance = ids[k:] - ids[:-k]
        weight = np.where(distance <= radius, np.exp(-(distance**2) / (2 * sigma**2)), 0.0)
        num[:-k] += weight * values[k:]
        den[:-k] += weight
        num[k:] += weight * values[:-k]
        den[k:] += weight
    return num / den


def smooth(scores: pd.Series, videos: pd.Series, frames: pd.Series, sigma: float) -> pd.Series:
    """Gaussian smoothing of each video's scores (rows sorted by frame within a video)."""
    values = scores.to_numpy(dtype=np.float64)
    if sigma <= 0:
        return pd.Series(values, index=scores.index)
    out = np.empty_like(values)
    ids = frames.to_numpy()
    for positions in video_groups(videos):
        order = positions[np.argsort(ids[positions], kind="stable")]
        out[order] = gaussian_smooth(values[order], ids[order], sigma)
    return pd.Series(out, index=scores.index)
