"""What turns a raw score column into the evaluated anomaly score, validated in one place.

column         raw score column (``mse``, ``psnr``, ``patch_max`` or a model's own); oriented
               so that higher = more anomalous (PSNR negated)
normalization  see ``NORMALIZATIONS``; applied before smoothing
sigma          Gaussian smoothing sigma in frames (0 = off)
median         median filter window in frames (0 or 1 = off); applied before the Gaussian
train_range    (low, high) quantiles of the validation scores that ``train_minmax`` maps to
               0 and 1
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vad.errors import VADError
from vad.scoring.train_stats import QUANTILES, quantile_key

#: per video (test statistics of each whole video: an offline protocol)
PER_VIDEO = ("minmax", "zscore")
#: pooled over all scored frames (test statistics: offline)
GLOBAL = ("global_minmax",)
#: statistics of held-out normal validation videos stored with the model (online-capable)
TRAIN = ("train_zscore", "train_minmax")
NORMALIZATIONS = ("none", *PER_VIDEO, *GLOBAL, *TRAIN)

DESCRIPTIONS = {
    "none": "raw score",
    "minmax": "per-video min-max (test statistics of each whole video, offline)",
    "zscore": "per-video z-score (test statistics of each whole video, offline)",
    "global_minmax": "global min-max over all test frames (test statistics, offline)",
    "train_zscore": "z-score with validation mean/std (train statistics, online-capable)",
    "train_minmax": "validation quantile range to [0, 1] (train statistics, online-capable)",
}


class ScoringConfigError(VADError, ValueError):
    """A scoring option is unknown or out of range."""


@dataclass(frozen=True)
class ScoringOptions:
    """The validated options of ``conf/scoring`` that shape the evaluated score."""

    column: str = "psnr"
    normalization: str = "minmax"
    sigma: float = 0.0
    median: int = 0
    train_range: tuple[float, float] = (0.0, 0.999)

    def __post_init__(self) -> None:
        if self.normalization not in NORMALIZATIONS:
            raise ScoringConfigError(
                f"scoring.normalization={self.normalization!r} is unknown "
                f"(choose from {', '.join(NORMALIZATIONS)})"
            )
        if not self.sigma >= 0:
            raise ScoringConfigError(f"scoring.smoothing.sigma must be >= 0, got {self.sigma}")
        if self.median < 0:
            raise ScoringConfigError(f"scoring.smoothing.median must be >= 0, got {self.median}")
        low, high = self.train_range
        stored = {quantile_key(q) for q in QUANTILES}
        if not 0 <= low < high <= 1 or {quantile_key(low), quantile_key(high)} - stored:
            raise ScoringConfigError(
                f"scoring.train_range={list(self.train_range)} must be two increasing quantiles "
                f"among {list(QUANTILES)}"
            )

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> ScoringOptions:
        """Options from a ``conf/scoring`` mapping (missing keys take the defaults)."""
        cfg = cfg or {}
        smoothing = cfg.get("smoothing") or {}
        train_range = cfg.get("train_range") or cls.train_range
        return cls(
            column=str(cfg.get("column", cls.column)),
            normalization=str(cfg.get("normalization", cls.normalization)),
            sigma=float(smoothing.get("sigma", 0.0) or 0.0),
            median=int(smoothing.get("median", 0) or 0),
            train_range=(float(train_range[0]), float(train_range[1])),
        )

    @property
    def needs_train_stats(self) -> bool:
        return self.normalization in TRAIN

    def describe(self) -> str:
        """One line for tables and reports."""
        parts = [self.column, DESCRIPTIONS[self.normalization]]
        if self.normalization == "train_minmax":
            parts[-1] += f" q{self.train_range[0]:g}..q{self.train_range[1]:g}"
        if self.median > 1:
            parts.append(f"median {self.median}")
        parts.append(f"Gaussian sigma={self.sigma:g}" if self.sigma > 0 else "no Gaussian")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "normalization": self.normalization,
            "sigma": self.sigma,
            "median": self.median,
            "train_range": list(self.train_range),
        }
