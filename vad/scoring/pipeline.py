"""From a raw score column to the anomaly score that is evaluated or fused.

Order: orient (higher = more anomalous), normalise, then smooth each video along its frame ids.
Normalising before smoothing follows Jigsaw-VAD (per-video min-max, then temporal filter) and
AI-VAD (train-statistics calibration, then Gaussian).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from vad.scoring.frame_scores import anomaly_score
from vad.scoring.normalization import normalize
from vad.scoring.options import ScoringOptions
from vad.scoring.smoothing import smooth


def anomaly_scores(
    scores: pd.DataFrame,
    column: str,
    normalization: str = "minmax",
    sigma: float = 0.0,
    median: int = 0,
    stats: Mapping[str, Any] | None = None,
    train_range: tuple[float, float] = (0.0, 0.999),
) -> pd.Series:
    """The evaluated score of ``column`` of a one-row-per-frame table (video, frame, ...).

    ``stats``: training statistics (``vad.scoring.train_stats``) for ``train_*`` normalisations.
    """
    values = normalize(
        anomaly_score(scores, column), scores["video"], normalization, stats, column, train_range
    )
    return smooth(values, scores["video"], scores["frame"], sigma, median)


def score_frame(
    scores: pd.DataFrame, options: ScoringOptions, stats: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """A frame table ``video, frame, score[, label][, filled]`` for ``options``."""
    keep = [c for c in ("video", "frame", "label", "filled") if c in scores.columns]
    score = anomaly_scores(
        scores,
        options.column,
        options.normalization,
        options.sigma,
        options.median,
        stats,
        options.train_range,
    )
    return scores[keep].assign(score=score.to_numpy())
