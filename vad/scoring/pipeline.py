"""From a raw score column to the anomaly score that is evaluated or fused."""

from __future__ import annotations

import pandas as pd

from vad.scoring.frame_scores import anomaly_score
from vad.scoring.normalization import normalize
from vad.scoring.smoothing import smooth


def anomaly_scores(
    scores: pd.DataFrame, column: str, normalization: str = "minmax", sigma: float = 0.0
) -> pd.Series:
    """Orient ``column`` (higher = more anomalous), normalise per video, then smooth per video."""
    values = normalize(anomaly_score(scores, column), scores["video"], normalization)
    return smooth(values, scores["video"], scores["frame"], sigma)
