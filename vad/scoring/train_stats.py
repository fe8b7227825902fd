"""Statistics of each score column on held-out normal videos: the *train-statistics* protocol.

After training, the best checkpoint scores the held-out normal validation videos (``val`` split:
training videos never used for gradient steps, never a test video). The statistics of every score
column, oriented so that higher = more anomalous (PSNR negated), are stored in the checkpoint, so
that prediction can normalise test scores without looking at any test statistic (an online-capable
protocol), and a model can read them back (``model.fitted.score_stats``) e.g. to weight its streams.

Layout (JSON-friendly)::

    {"split": "val", "videos": ["15", "16"], "frames": 360, "aggregate": "mean",
     "columns": {"psnr": {"frames": 360, "mean": -33.1, "std": 1.2, "min": ..., "max": ...,
                          "quantiles": {"0": ..., "0.5": ..., "0.999": ..., "1": ...}}, ...}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from vad.errors import CheckpointError, ScoreFileError
from vad.scoring.frame_scores import anomaly_score

#: quantiles stored for every column (0 = min, 1 = max)
QUANTILES = (0.0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0)


def quantile_key(q: float) -> str:
    return f"{float(q):g}"


def column_statistics(values: np.ndarray) -> dict[str, Any]:
    """Count, mean, population std, min, max and the ``QUANTILES`` of the finite ``values``.

    NaN marks a frame a column does not score (e.g. one branch of a two-branch model); such
    frames are left out and ``frames`` counts the others.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("statistics need at least one finite value")
    quantiles = np.quantile(values, QUANTILES)
    return {
        "frames": int(values.size),
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(values.min()),
        "max": float(values.max()),
        "quantiles": {quantile_key(q): float(v) for q, v in zip(QUANTILES, quantiles, strict=True)},
    }


def score_statistics(
    scores: pd.DataFrame, columns: Sequence[str], split: str = "val", aggregate: str = "mean"
) -> dict[str, Any]:
    """Statistics of the anomaly score of each column over the frames of ``scores``.

    Frames flagged ``filled`` (no full clip; they repeat a neighbour's score) are left out, and
    so is a column without any finite value.
    """
    if "filled" in scores.columns:
        scores = scores[scores["filled"] == 0]
    if scores.empty:
        raise ScoreFileError(f"no scored {split} frame to compute statistics from")
    found = {c: anomaly_score(scores, c).to_numpy() for c in columns}
    return {
        "split": split,
        "videos": [str(v) for v in pd.unique(scores["video"])],
        "frames": len(scores),
        "aggregate": aggregate,
        "columns": {c: column_statistics(v) for c, v in found.items() if np.isfinite(v).any()},
    }


def column_stats(stats: Mapping[str, Any] | None, column: str) -> Mapping[str, Any]:
    """The stored statistics of one column, or a clear error when there are none."""
    if not stats:
        raise CheckpointError(
            "train-statistics normalisation needs statistics of the held-out validation scores; "
            "none are stored with this model (fit them with scoring.train_stats=refit)"
        )
    columns = stats.get("columns", {})
    if column not in columns:
        raise CheckpointError(
            f"no training statistics for score column {column!r} (stored: {sorted(columns)}); "
            "refit them with scoring.train_stats=refit"
        )
    return columns[column]


def stored_quantile(stats: Mapping[str, Any], q: float) -> float:
    quantiles = stats["quantiles"]
    key = quantile_key(q)
    if key not in quantiles:
        raise CheckpointError(
            f"quantile {q} of the training statistics is not stored "
            f"(stored: {sorted(quantiles, key=float)})"
        )
    return float(quantiles[key])


def check_stats_compatible(
    stats: Mapping[str, Any] | None,
    column: str,
    aggregate: str | None,
    patch_size: int | None = None,
    source: str = "the stored training statistics",
) -> Mapping[str, Any]:
    """The statistics of ``column``, after checking they were computed with the clip
    aggregation of the scores they normalise (and the patch size, for a patch column). ``None``
    for a setting means it is unknown and not checked."""
    found = column_stats(stats, column)
    want: dict[str, Any] = {"aggregate": aggregate}
    if column.endswith("patch_max"):
        want["patch_size"] = patch_size
    for key, value in want.items():
        stored = stats.get(key)
        if value is not None and stored is not None and stored != value:
            raise CheckpointError(
                f"{source} were computed with {key}={stored}, the scores use {key}={value}; "
                "refit them with scoring.train_stats=refit"
            )
    return found
