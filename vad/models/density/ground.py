"""The ground line of a fixed camera: expected object height against image row (numpy).

On a flat ground seen by a pinhole camera an upright object is as tall, in pixels, as its foot
row is far below the horizon, so one line fitted to the training objects' boxes gives the size a
normal object has at every row. Speeds and sizes measured in these expected heights are the same
for a near and a far pedestrian on a receding walkway (UCSD Ped1), where pixels are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vad.errors import DataError

#: the least expected object height (pixels) the ground line may give, near its horizon
MIN_EXPECTED_HEIGHT = 2.0


def fit_ground(pixels: np.ndarray, bands: int = 16) -> np.ndarray:
    """(4,) intercept and slope of the expected object height (pixels) against the foot row
    (``y1``) of the training boxes ``pixels`` (N, 4), and the first and last foot row it was
    fitted on: an upright object on a flat ground seen by a pinhole camera is as tall as its
    foot row is far below the horizon. Least squares through the median height of each of
    ``bands`` quantile bands of foot rows, weighted by their boxes, so that boxes holding several
    people or a fragment of one do not pull the line. The line is not extrapolated: beyond the
    rows it saw, the height at the nearest of them."""
    pixels = np.asarray(pixels, dtype=np.float64).reshape(-1, 4)
    if not len(pixels):
        raise ValueError("the ground line needs training boxes")
    feet, heights = pixels[:, 3], pixels[:, 3] - pixels[:, 1]
    edges = np.unique(np.quantile(feet, np.linspace(0, 1, bands + 1)))
    band = np.clip(np.searchsorted(edges, feet, side="right") - 1, 0, max(0, len(edges) - 2))
    found = [(feet[band == b].mean(), np.median(heights[band == b]), np.sum(band == b))
             for b in np.unique(band)]  # fmt: skip
    rows, medians, counts = (np.array(v, dtype=np.float64) for v in zip(*found, strict=True))
    if len(rows) < 2 or np.ptp(rows) == 0:
        return np.array([float(np.median(heights)), 0.0, rows[0], rows[0]])
    slope, intercept = np.polyfit(rows, medians, 1, w=np.sqrt(counts))
    return np.array([intercept, slope, rows.min(), rows.max()])


def expected_heights(pixels: np.ndarray, ground: np.ndarray) -> np.ndarray:
    """(N, 1) float32 expected object height (pixels) at the foot row of each pixel box (the
    ``fit_ground`` line, at the nearest fitted row beyond them)."""
    feet = np.clip(np.asarray(pixels, dtype=np.float64)[:, 3:4], ground[2], ground[3])
    heights = ground[0] + ground[1] * feet
    return np.maximum(heights, MIN_EXPECTED_HEIGHT).astype(np.float32)


def ground_of(videos: Sequence[Any]) -> np.ndarray:
    """The ground line (``fit_ground``) of the motion boxes of the training ``videos``."""
    parts = []
    for video in videos:
        rows = np.asarray(video.array("boxes"), dtype=np.float64).reshape(-1, 4)
        height, width = np.shape(video.frames)[1:3]
        parts.append(rows[np.isfinite(rows).all(axis=1)] * [width, height, width, height])
    pixels = np.concatenate(parts) if parts else np.zeros((0, 4))
    if not len(pixels):
        raise DataError(
            "no moving object in the training videos: lower data.regions.threshold or "
            "data.regions.min_area"
        )
    return fit_ground(pixels)
