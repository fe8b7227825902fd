"""From a raw error column to an anomaly score oriented so that higher = more anomalous.

The raw columns themselves (``mse``, ``psnr``, ``patch_max``, ...) are computed by the models
(``vad.models.prediction_errors``); PSNR is the one whose *lower* values are anomalous.
"""

from __future__ import annotations

import pandas as pd

from vad.errors import ScoreFileError
from vad.models.contract import LOWER_IS_ANOMALOUS

__all__ = ["LOWER_IS_ANOMALOUS", "anomaly_score"]


def anomaly_score(scores: pd.DataFrame, column: str) -> pd.Series:
    """A score column oriented so that higher = more anomalous."""
    if column not in scores.columns:
        raise ScoreFileError(
            f"score column {column!r} not found; the scores have {list(scores.columns)}"
        )
    values = scores[column].astype(float)
    return -values if column in LOWER_IS_ANOMALOUS else values
