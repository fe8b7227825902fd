"""Fusion of member scores that are already normalised per video."""

from __future__ import annotations

import numpy as np

FUSIONS = ("mean",)


def normalized_weights(weights: dict[str, float]) -> dict[str, float]:
    """Weights scaled to sum to 1; they must be non-negative and not all zero."""
    if any(w < 0 for w in weights.values()):
        raise ValueError(f"ensemble weights must be >= 0, got {weights}")
    total = sum(weights.values())
    if total <= 0:
        raise ValueError(f"ensemble weights sum to 0: {weights}")
    return {name: w / total for name, w in weights.items()}


def weighted_mean(columns: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Sum of ``weights[name] * columns[name]`` with the weights normalised to sum to 1."""
    w = normalized_weights(weights)
    return sum(w[name] * np.asarray(values, dtype=np.float64) for name, values in columns.items())
