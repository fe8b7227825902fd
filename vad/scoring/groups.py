"""Row positions of each video in a frame table."""

from __future__ import annotations

import numpy as np
import pandas as pd


def video_groups(videos: pd.Series | np.ndarray) -> list[np.ndarray]:
    """Positional indices of the rows of each video, in order of first appearance."""
    codes, _ = pd.factorize(np.asarray(videos))
    order = np.argsort(codes, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(codes[order])) + 1) if len(order) else []
