"""The validated options of ``conf/ensemble.yaml`` (everything but the members)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omegaconf import OmegaConf

from vad.errors import VADError
from vad.scoring.options import (
    NORMALIZATIONS,
    ScoringConfigError,
    parse_smoothing,
    parse_train_range,
)

#: member normalisations: the scoring ones plus per-video ranks
MEMBER_NORMALIZATIONS = (*NORMALIZATIONS, "rank")
FUSIONS = ("mean", "rank_mean", "max")
OBJECTIVES = ("micro_auc", "macro_auc", "macro_auc_padded", "ap", "eer")
LOWER_IS_BETTER = frozenset({"eer"})
DIRECTIONS = ("maximize", "minimize")
REPORTS = ("auto", "true", "false")


class EnsembleConfigError(VADError, ValueError):
    """An ensemble option is unknown, out of range or inconsistent."""


class ZeroWeightsError(EnsembleConfigError):
    """Every member in use has weight 0: there is nothing to fuse."""


@dataclass(frozen=True)
class EnsembleOptions:
    """How members are normalised, fused, smoothed and tuned.

    ``tune_videos``: a fraction of the labelled videos (drawn with ``seed``, stratified by whether a
    video has both classes), a tuple of video ids, or ``"all"`` (tune and report on the same
    videos: optimistic). ``cv_folds`` >= 2 replaces the tune/eval split by k folds of videos.
    ``report``: write report.md, figures and each member alone (``auto``: outside sweeps).
    """

    normalization: str = "minmax"
    train_range: tuple[float, float] = (0.0, 0.999)
    fusion: str = "mean"
    sigma: float = 0.0
    median: int = 0
    objective: str = "micro_auc"
    direction: str = "maximize"
    tune_videos: float | str | tuple[str, ...] = 0.5
    cv_folds: int = 0
    seed: int = 0
    report: str = "auto"

    def __post_init__(self) -> None:
        _choice("normalization", self.normalization, MEMBER_NORMALIZATIONS)
        _choice("fusion", self.fusion, FUSIONS)
        _choice("objective", self.objective, OBJECTIVES)
        _choice("direction", self.direction, DIRECTIONS)
        _choice("report", self.report, REPORTS)
        if (self.objective in LOWER_IS_BETTER) != (self.direction == "minimize"):
            want, better = (
                ("minimize", "lower")
                if self.objective in LOWER_IS_BETTER
                else ("maximize", "higher")
            )
            raise EnsembleConfigError(
                f"objective={self.objective} is better when {better}: set direction={want}"
            )
        try:
            parse_smoothing({"sigma": self.sigma, "median": self.median}, "smoothing")
            parse_train_range(self.train_range, "train_range")
        except ScoringConfigError as exc:
            raise EnsembleConfigError(str(exc)) from exc
        if self.cv_folds == 1 or self.cv_folds < 0:
            raise EnsembleConfigError(f"cv_folds must be 0 (off) or >= 2, got {self.cv_folds}")
        tune = self.tune_videos
        if isinstance(tune, float) and not 0 < tune < 1:
            raise EnsembleConfigError(f"tune_videos as a fraction must be in (0, 1), got {tune}")
        if isinstance(tune, str) and tune != "all":
            raise EnsembleConfigError(
                f"tune_videos={tune!r}: give a fraction, a list of video ids or 'all'"
            )
        if isinstance(tune, tuple) and not tune:
            raise EnsembleConfigError("tune_videos is an empty list")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> EnsembleOptions:
        """Options from the composed ensemble config (missing keys take the defaults)."""
        try:
            sigma, median = parse_smoothing(cfg.get("smoothing"), "smoothing")
            train_range = parse_train_range(
                cfg.get("train_range") or cls.train_range, "train_range"
            )
        except ScoringConfigError as exc:
            raise EnsembleConfigError(str(exc)) from exc
        report = cfg.get("report", cls.report)
        return cls(
            normalization=str(cfg.get("normalization", cls.normalization)),
            train_range=train_range,
            fusion=str(cfg.get("fusion", cls.fusion)),
            sigma=sigma,
            median=median,
            objective=str(cfg.get("objective", cls.objective)),
            direction=str(cfg.get("direction", cls.direction)),
            tune_videos=_tune_videos(cfg.get("tune_videos", cls.tune_videos)),
            cv_folds=int(cfg.get("cv_folds", 0) or 0),
            seed=int(cfg.get("seed", 0) or 0),
            report=str(report).lower() if isinstance(report, bool) else str(report),
        )

    def smoothing(self) -> dict[str, float]:
        return {"sigma": self.sigma, "median": self.median}


def _tune_videos(value: Any) -> float | str | tuple[str, ...]:
    if OmegaConf.is_config(value):
        value = OmegaConf.to_container(value, resolve=True)
    if value is None:
        return EnsembleOptions.tune_videos
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    if isinstance(value, bool):
        raise EnsembleConfigError(f"tune_videos={value} is not a fraction, list or 'all'")
    if isinstance(value, int | float):
        return float(value)
    return str(value)


def _choice(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise EnsembleConfigError(f"{key}={value!r} is unknown (choose from {', '.join(allowed)})")
