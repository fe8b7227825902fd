"""The online score of streaming inference and its alarm threshold.

The score is the oriented raw column (``scoring.column``; PSNR negated), normalised with the
training statistics stored in the checkpoint when ``scoring.normalization`` is a ``train_*`` method
(per-video and global normalisations need the whole footage, so they are not online: the raw score
is shown instead). The threshold is ``infer.threshold`` in the units of that score, or the
``infer.threshold_quantile`` quantile of the validation scores stored in the checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vad.errors import CheckpointError
from vad.scoring.frame_scores import anomaly_score
from vad.scoring.normalization import normalize
from vad.scoring.options import DESCRIPTIONS, ScoringOptions
from vad.scoring.train_stats import column_stats, stored_quantile


@dataclass
class AlarmScore:
    """Maps a table of raw score columns to the online score; ``threshold`` and ``low`` (the
    smallest validation score, when known) are in the same units."""

    column: str
    method: str
    stats: Mapping[str, Any] | None
    train_range: tuple[float, float]
    threshold: float = float("nan")
    low: float | None = None

    @classmethod
    def build(
        cls,
        options: ScoringOptions,
        stats: Mapping[str, Any] | None,
        threshold: float | None,
        quantile: float,
        ckpt: str | Path,
    ) -> AlarmScore:
        method = options.normalization if options.needs_train_stats else "none"
        alarm = cls(options.column, method, stats, options.train_range)
        if stats and options.column in stats.get("columns", {}):
            column = column_stats(stats, options.column)
            alarm.low = alarm.transform(stored_quantile(column, 0.0))
            if threshold is None:
                threshold = alarm.transform(stored_quantile(column, quantile))
        if threshold is None:
            raise CheckpointError(
                f"{ckpt}: no training statistics of column {options.column!r} are stored to "
                "derive the alarm threshold; set infer.threshold=<score> or store them with "
                "scoring.train_stats=refit"
            )
        alarm.threshold = float(threshold)
        return alarm

    def transform(self, raw_oriented: float) -> float:
        """One oriented raw value in the units of the online score."""
        values = pd.Series([raw_oriented], dtype=float)
        out = normalize(
            values, pd.Series(["_"]), self.method, self.stats, self.column, self.train_range
        )
        return float(out.iloc[0])

    def scores(self, table: pd.DataFrame) -> np.ndarray:
        """The online score of every row of a table with ``video`` and the raw column."""
        oriented = anomaly_score(table, self.column)
        return normalize(
            oriented, table["video"], self.method, self.stats, self.column, self.train_range
        ).to_numpy()

    def describe(self) -> str:
        return f"{self.column}, {DESCRIPTIONS[self.method]}, threshold {self.threshold:.4g}"
