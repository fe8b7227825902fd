"""Score normalisation; every method is increasing, so higher = more anomalous stays true.

    none           raw anomaly score
    minmax         per video to [0, 1] with the video's own min and max: FFP (Liu et al., CVPR
                   2018) and most frame-prediction papers since. It uses test statistics of the
                   *whole* video, so it is an offline protocol
    zscore         per video: (s - mean) / std of the video (offline as well)
    global_minmax  all frames pooled to [0, 1] (test statistics, offline)
    train_zscore   (s - mean_val) / std_val with the statistics of the held-out normal validation
                   videos stored with the model (online-capable: no test statistic is used)
    train_minmax   (s - q_low) / (q_high - q_low) with validation quantiles; the default
                   (min, 99.9th percentile) is AI-VAD's calibration (Reiss & Hoshen, 2023)

Constant scores never divide by zero: a constant video (or pool) maps to 0 under min-max and
z-score; a zero validation spread leaves the scale at 1 (scores are only shifted).
Global and train-statistics normalisations are one increasing affine map for all frames, so on
their own they leave every ranking metric of a single model unchanged; they matter when scores of
several models are fused and when a threshold must be fixed before the test video is seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from vad.scoring.groups import video_groups
from vad.scoring.options import NORMALIZATIONS, ScoringConfigError
from vad.scoring.train_stats import column_stats, stored_quantile


def minmax(values: np.ndarray) -> np.ndarray:
    span = values.max() - values.min()
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


def zscore(values: np.ndarray) -> np.ndarray:
    std = values.std()
    return (values - values.mean()) / std if std > 0 else np.zeros_like(values)


_PER_VIDEO = {"minmax": minmax, "zscore": zscore}


def train_affine(
    stats: Mapping[str, Any], method: str, train_range: tuple[float, float] = (0.0, 0.999)
) -> tuple[float, float]:
    """(shift, scale) of a train-statistics method: normalised = (s - shift) / scale."""
    if method == "train_zscore":
        shift, scale = stats["mean"], stats["std"]
    elif method == "train_minmax":
        shift = stored_quantile(stats, train_range[0])
        scale = stored_quantile(stats, train_range[1]) - shift
    else:
        raise ScoringConfigError(f"{method!r} is not a train-statistics normalisation")
    scale = float(scale) if scale > 0 else 1.0
    return float(shift), scale


def normalize(
    scores: pd.Series,
    videos: pd.Series,
    method: str,
    stats: Mapping[str, Any] | None = None,
    column: str | None = None,
    train_range: tuple[float, float] = (0.0, 0.999),
) -> pd.Series:
    """Normalise anomaly ``scores`` (rows of ``videos``) with ``method``.

    Train-statistics methods read ``column``'s entry of the stored ``stats``
    (see ``vad.scoring.train_stats``).
    """
    if method not in NORMALIZATIONS:
        raise ScoringConfigError(
            f"unknown normalisation {method!r} (choose from {', '.join(NORMALIZATIONS)})"
        )
    values = scores.to_numpy(dtype=np.float64)
    if method == "none":
        out = values.copy()
    elif method == "global_minmax":
        out = minmax(values) if len(values) else values.copy()
    elif method in _PER_VIDEO:
        out = np.empty_like(values)
        for positions in video_groups(videos):
            out[positions] = _PER_VIDEO[method](values[positions])
    else:
        shift, scale = train_affine(column_stats(stats, column or ""), method, train_range)
        out = (values - shift) / scale
    return pd.Series(out, index=scores.index)
