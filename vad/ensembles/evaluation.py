"""Metrics of a fused frame table on sets of videos: the tune objective, the held-out metrics, and
the per-fold numbers of ``cv_folds``.

Inside one job a configuration is *fixed*: its tune value is what a sweep selects by, its eval
metrics are an honest estimate only for the configuration the sweep selected by tune value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from vad.ensembles.ensemble_options import EnsembleConfigError, EnsembleOptions
from vad.ensembles.splits import Split, kfold_splits, tune_eval_split, video_classes
from vad.scoring.metrics import (
    average_precision,
    equal_error_rate,
    evaluate,
    padded_roc_auc,
    roc_auc,
)

REPORTED = ("micro_auc", "macro_auc", "macro_auc_padded", "ap", "eer")


def subset(frame: pd.DataFrame, videos: Iterable[str]) -> pd.DataFrame:
    return frame[frame["video"].isin(set(videos))]


def objective_value(frame: pd.DataFrame, objective: str, score: str = "score") -> float:
    """One metric of a labelled frame table (only what that metric needs is computed)."""
    labels, values = frame["label"].to_numpy(), frame[score].to_numpy()
    if objective == "micro_auc":
        return roc_auc(labels, values)
    if objective == "ap":
        return average_precision(labels, values)
    if objective == "eer":
        return equal_error_rate(labels, values)
    per_video = []
    for _, group in frame.groupby("video", sort=False):
        y, s = group["label"].to_numpy(), group[score].to_numpy()
        per_video.append(roc_auc(y, s) if objective == "macro_auc" else padded_roc_auc(y, s))
    found = [v for v in per_video if not math.isnan(v)]
    return float(np.mean(found)) if found else float("nan")


def metrics(frame: pd.DataFrame, videos: Sequence[str], score: str = "score") -> dict[str, Any]:
    """Pooled metrics of ``score`` on ``videos`` (with the video list)."""
    summary, _ = evaluate(subset(frame, videos), score)
    return {**summary, "videos": list(videos)}


def splits_for(frame: pd.DataFrame, options: EnsembleOptions) -> list[Split]:
    """The tune/eval split, or the k folds of ``cv_folds``."""
    classes = video_classes(frame)
    if options.cv_folds:
        return kfold_splits(classes, options.cv_folds, options.seed)
    return [tune_eval_split(classes, options.tune_videos, options.seed)]


def tune_value(frame: pd.DataFrame, split: Split, options: EnsembleOptions) -> float:
    value = objective_value(subset(frame, split.tune), options.objective)
    if math.isnan(value):
        raise EnsembleConfigError(
            f"objective {options.objective} is undefined on the tune videos {list(split.tune)}"
        )
    return value


def evaluate_splits(frame: pd.DataFrame, options: EnsembleOptions) -> dict[str, Any]:
    """The objective and metrics of the fused ``score`` for the tune/eval split or each fold.

    Returns ``value`` (what a sweep job returns: the tune objective; with ``cv_folds`` the objective
    on all videos) and ``tune``/``eval`` blocks, or ``folds`` and their ``cv`` mean and std.
    """
    splits = splits_for(frame, options)
    if not options.cv_folds:
        split = splits[0]
        value = tune_value(frame, split, options)
        return {
            "protocol": split.name,
            "value": value,
            "tune": {"videos": list(split.tune), options.objective: value},
            "eval": metrics(frame, split.eval),
        }
    folds = [
        {
            "fold": i + 1,
            "tune_videos": list(split.tune),
            "tune_value": tune_value(frame, split, options),
            "eval": metrics(frame, split.eval),
        }
        for i, split in enumerate(splits)
    ]
    return {
        "protocol": f"{options.cv_folds}-fold cross-validation by video",
        "value": objective_value(frame, options.objective),
        "folds": folds,
        "cv": mean_std([f["eval"] for f in folds]),
    }


def mean_std(blocks: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean and sample standard deviation (ddof=1) of each reported metric over ``blocks``."""
    out = {}
    for key in REPORTED:
        values = np.array([b[key] for b in blocks], dtype=np.float64)
        values = values[~np.isnan(values)]
        std = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
        out[key] = {"mean": float(values.mean()) if len(values) else float("nan"), "std": std}
    return out


def is_better(a: float, b: float, direction: str) -> bool:
    return a > b if direction == "maximize" else a < b


def worst_value(direction: str) -> float:
    """What an invalid sweep point returns: the worst value for the sweep's direction."""
    return -math.inf if direction == "maximize" else math.inf
