"""Fusion of members' normalised scores into one score per frame.

mean       sum of w_i * s_i with the weights scaled to sum to 1 (weight 0 drops a member)
rank_mean  the same weighted mean of each member's rank over all frames pooled, scaled to
           [0, 1] (ties share their average rank): only each member's order counts, not its
           scale. Per-video ranks are ``normalization=rank`` with ``fusion=mean``
max        the largest score among the members whose weight is not 0 (weights only select)
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from vad.ensembles.ensemble_options import FUSIONS, EnsembleConfigError, ZeroWeightsError
from vad.ensembles.normalize import scaled_rank


def normalized_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Weights scaled to sum to 1; they must be finite, >= 0 and not all 0."""
    bad = {name: w for name, w in weights.items() if not math.isfinite(w) or w < 0}
    if bad:
        raise EnsembleConfigError(f"ensemble weights must be finite and >= 0, got {bad}")
    total = sum(weights.values())
    if total <= 0:
        raise ZeroWeightsError(f"every member in use has weight 0: {dict(weights)}")
    return {name: w / total for name, w in weights.items()}


def weighted_mean(columns: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """Sum of ``weights[name] * columns[name]`` with the weights normalised to sum to 1."""
    w = normalized_weights(weights)
    out = np.zeros(len(next(iter(columns.values()))), dtype=np.float64)
    for name, values in columns.items():
        if w[name] > 0:
            out += w[name] * np.asarray(values, dtype=np.float64)
    return out


def fuse(
    columns: Mapping[str, np.ndarray], weights: Mapping[str, float], method: str = "mean"
) -> np.ndarray:
    """The fused score of equally long member ``columns`` (same rows) with ``weights``."""
    if set(columns) != set(weights):
        raise EnsembleConfigError(
            f"members {sorted(columns)} and weights {sorted(weights)} do not match"
        )
    if method == "mean":
        return weighted_mean(columns, weights)
    if method == "rank_mean":
        w = normalized_weights(weights)
        ranks = {name: scaled_rank(values) for name, values in columns.items() if w[name] > 0}
        return weighted_mean(ranks, {name: w[name] for name in ranks})
    if method == "max":
        w = normalized_weights(weights)
        chosen = [np.asarray(columns[name], dtype=np.float64) for name in columns if w[name] > 0]
        return np.max(np.stack(chosen), axis=0)
    raise EnsembleConfigError(f"fusion={method!r} is unknown (choose from {', '.join(FUSIONS)})")
