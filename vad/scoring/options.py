"""What turns a raw score column into the evaluated anomaly score, validated in one place.

column         raw score column (``mse``, ``psnr``, ``patch_max`` or a model's own); oriented
               so that higher = more anomalous (PSNR negated); None: the model's own
               (``ModelContract.score_column``), filled in by ``for_model``
normalization  see ``NORMALIZATIONS``; applied before smoothing
sigma          Gaussian smoothing sigma in frames (0 = off)
median         median filter window in frames (0 or 1 = off); applied before the Gaussian
train_range    (low, high) quantiles of the validation scores that ``train_minmax`` maps to
               0 and 1
aggregate      mean | max: combines the scores of clips that cover the same frame
patch_size     k of the ``patch_max`` columns (None: the model's own)
train_stats    auto | refit | never: when the validation statistics are fitted
report         ``ReportOptions``: the visual report of labelled runs
pixel          localisation: store per-pixel maps of test videos with pixel masks and evaluate
               them (``vad.scoring.pixel_maps``)
pixel_sigma    Gaussian smoothing of the maps before the pixel metrics, in pixels of a
               256-pixel-wide map (scaled to the map's width; 0 = none)

Every key of ``conf/scoring`` is read here, once; an unknown key is an error naming it. The
smoothing and train-range parsers are shared with the ensemble options.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from omegaconf import OmegaConf

from vad.errors import VADError
from vad.models.contract import ModelContract
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


AGGREGATES = ("mean", "max")
TRAIN_STATS_MODES = ("auto", "refit", "never")
KEYS = (
    "column",
    "normalization",
    "train_range",
    "smoothing",
    "aggregate",
    "patch_size",
    "train_stats",
    "report",
    "pixel",
    "pixel_sigma",
)


class ScoringConfigError(VADError, ValueError):
    """A scoring option is unknown or out of range."""


def plain(cfg: Any) -> Any:
    """A config node as plain Python containers."""
    return OmegaConf.to_container(cfg, resolve=True) if OmegaConf.is_config(cfg) else cfg


def check_keys(cfg: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(cfg) - set(allowed))
    if unknown:
        raise ScoringConfigError(f"{where}: unknown key(s) {unknown} (known: {', '.join(allowed)})")


def parse_smoothing(cfg: Mapping[str, Any] | None, where: str) -> tuple[float, int]:
    """``(sigma, median)`` of a ``smoothing`` block, validated."""
    cfg = plain(cfg) or {}
    check_keys(cfg, ("sigma", "median"), where)
    sigma, median = float(cfg.get("sigma", 0.0) or 0.0), cfg.get("median", 0) or 0
    if not sigma >= 0:
        raise ScoringConfigError(f"{where}.sigma must be >= 0, got {sigma}")
    if int(median) != median or median < 0:
        raise ScoringConfigError(f"{where}.median must be a whole number >= 0, got {median}")
    return sigma, int(median)


def parse_train_range(value: Any, where: str) -> tuple[float, float]:
    """Two increasing quantiles among the stored ``QUANTILES``."""
    value = plain(value)
    stored = {quantile_key(q) for q in QUANTILES}
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        low, high = -1.0, -1.0
    if not 0 <= low < high <= 1 or {quantile_key(low), quantile_key(high)} - stored:
        raise ScoringConfigError(
            f"{where}={value} must be two increasing quantiles among {list(QUANTILES)}"
        )
    return low, high


def check_choice(key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ScoringConfigError(f"{key}={value!r} is unknown (choose from {', '.join(allowed)})")
    return str(value)


@dataclass(frozen=True)
class ReportOptions:
    """``scoring.report``: the report of labelled runs and its most anomalous frames."""

    enabled: bool = True
    top_k: int = 8
    min_gap: int = 10

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> ReportOptions:
        cfg = plain(cfg) or {}
        check_keys(cfg, ("enabled", "top_k", "min_gap"), "scoring.report")
        report = cls(
            bool(cfg.get("enabled", True)),
            int(cfg.get("top_k", 8)),
            int(cfg.get("min_gap", 10)),
        )
        if report.top_k < 0 or report.min_gap < 0:
            raise ScoringConfigError(f"scoring.report top_k and min_gap must be >= 0: {cfg}")
        return report


@dataclass(frozen=True)
class ScoringOptions:
    """The validated options of ``conf/scoring`` that shape the evaluated score."""

    column: str | None = None
    normalization: str = "minmax"
    sigma: float = 0.0
    median: int = 0
    train_range: tuple[float, float] = (0.0, 0.999)
    aggregate: str = "mean"
    patch_size: int | None = None
    train_stats: str = "auto"
    report: ReportOptions = field(default_factory=ReportOptions)
    pixel: bool = True
    pixel_sigma: float = 4.0

    def __post_init__(self) -> None:
        check_choice("scoring.normalization", self.normalization, NORMALIZATIONS)
        check_choice("scoring.aggregate", self.aggregate, AGGREGATES)
        check_choice("scoring.train_stats", self.train_stats, TRAIN_STATS_MODES)
        parse_smoothing({"sigma": self.sigma, "median": self.median}, "scoring.smoothing")
        parse_train_range(self.train_range, "scoring.train_range")
        if not self.pixel_sigma >= 0:
            raise ScoringConfigError(f"scoring.pixel_sigma must be >= 0, got {self.pixel_sigma}")
        if self.patch_size is not None and self.patch_size < 1:
            raise ScoringConfigError(f"scoring.patch_size must be >= 1, got {self.patch_size}")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> ScoringOptions:
        """Options from a ``conf/scoring`` mapping (missing keys take the defaults)."""
        cfg = plain(cfg) or {}
        check_keys(cfg, KEYS, "scoring")
        sigma, median = parse_smoothing(cfg.get("smoothing"), "scoring.smoothing")
        patch_size = cfg.get("patch_size")
        return cls(
            column=None if cfg.get("column") is None else str(cfg["column"]),
            normalization=str(cfg.get("normalization", cls.normalization)),
            sigma=sigma,
            median=median,
            train_range=parse_train_range(
                cfg.get("train_range") or cls.train_range, "scoring.train_range"
            ),
            aggregate=str(cfg.get("aggregate", cls.aggregate)),
            patch_size=None if patch_size is None else int(patch_size),
            train_stats=str(cfg.get("train_stats", cls.train_stats)),
            report=ReportOptions.from_config(cfg.get("report")),
            pixel=_boolean(cfg.get("pixel", True), "scoring.pixel"),
            pixel_sigma=_number(cfg.get("pixel_sigma", cls.pixel_sigma), "scoring.pixel_sigma"),
        )

    def for_model(self, contract: ModelContract) -> ScoringOptions:
        """These options with the model's own score column where ``column`` is None."""
        return self if self.column is not None else replace(self, column=contract.score_column)

    @property
    def needs_train_stats(self) -> bool:
        return self.normalization in TRAIN

    def describe(self) -> str:
        """One line for tables and reports."""
        parts = [self.column or "the model's column", DESCRIPTIONS[self.normalization]]
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


def _boolean(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ScoringConfigError(f"{key}={value!r} must be true or false")
    return value


def _number(value: Any, key: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ScoringConfigError(f"{key}={value!r} must be a number") from None
