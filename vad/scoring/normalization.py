"""Per-video score normalisation (higher = more anomalous stays true)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vad.scoring.groups import video_groups

METHODS = ("none", "minmax", "zscore")


def _minmax(values: np.ndarray) -> np.ndarray:
    span = values.max() - values.min()
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


def _zscore(values: np.ndarray) -> np.ndarray:
    std = values.std()
    return (values - values.mean()) / std if std > 0 else np.zeros_like(values)


_PER_VIDEO = {"minmax": _minmax, "zscore": _zscore}


def normalize(scores: pd.Series, videos: pd.Series, method: str) -> pd.Series:
    """Normalise ``scores`` within each video: ``none``, ``minmax`` (to [0, 1]) or ``zscore``.

    A video whose scores are all equal maps to 0 instead of dividing by zero.
    """
    if method not in METHODS:
        raise ValueError(f"unknown normalisation {method!r} (choose from {METHODS})")
    values = scores.to_numpy(dtype=np.float64)
    if method == "none":
        return pd.Series(values, index=scores.index)
    out = np.empty_like(values)
    for positions in video_groups(videos):
        out[positions] = _PER_VIDEO[method](values[positions])
    return pd.Series(out, index=scores.index)
