"""Fuse the scores of several models (or one), write a submission and, with labels, the
leakage-free metrics a sweep tunes and reports."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from vad.ensembles.ensemble_options import EnsembleOptions, ZeroWeightsError
from vad.ensembles.ensemble_report import video_table, write_ensemble_report
from vad.ensembles.evaluation import evaluate_splits, metrics, worst_value
from vad.ensembles.fused_frame import fused_frame, load_members, member_weights, smoothed
from vad.ensembles.members import Member
from vad.ensembles.submission import write_submission
from vad.io.atomic import write_csv, write_json
from vad.tasks.printing import console, print_metrics
from vad.utils.console import console_copied_to, quiet_library_noise

log = logging.getLogger(__name__)


def ensemble(cfg: DictConfig) -> float | None:
    """Normalise each member, fuse with the weights, smooth per video; write ``fused_scores.csv``
    and ``submission.csv``. With labels, also ``metrics.json`` (tune objective, held-out eval
    metrics or per-fold metrics) and, outside sweeps, ``report.md`` with figures and each member
    alone vs the ensemble. Returns the tune objective (None without labels).

    In a multirun, a point whose weights are all 0 is recorded as invalid and returns the worst
    value for ``direction`` instead of stopping the sweep.
    """
    quiet_library_noise()
    with console_copied_to(Path(cfg.paths.output_dir) / f"{cfg.task_name}.log"):
        return _ensemble(cfg)


def _ensemble(cfg: DictConfig) -> float | None:
    options = EnsembleOptions.from_config(cfg)
    output_dir = Path(cfg.paths.output_dir)
    sweep = in_multirun()
    members = load_members(cfg, options)
    try:
        weights = member_weights(cfg, members)
    except ZeroWeightsError as exc:
        if not sweep:
            raise
        write_json({"status": "invalid", "reason": str(exc)}, output_dir / "metrics.json")
        console.print(f"skipped: {exc}", soft_wrap=True)
        return worst_value(options.direction)
    frame = fused_frame(members, weights, options)
    write_csv(frame, output_dir / "fused_scores.csv", float_format="%.9g")
    write_submission(frame, "score", output_dir / "submission.csv")
    if "label" not in frame.columns:
        console.print(
            f"fused {len(members)} member(s) {weights} -> {output_dir / 'submission.csv'}"
        )
        return None
    results = {"status": "ok", **describe(members, weights, options)}
    results.update(evaluate_splits(frame, options))
    if options.report == "true" or (options.report == "auto" and not sweep):
        _report(frame, members, options, results, output_dir)
    write_json(results, output_dir / "metrics.json")
    _print(results, options, sweep)
    return float(results["value"])


def in_multirun() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def describe(
    members: list[Member], weights: Mapping[str, float], options: EnsembleOptions
) -> dict[str, Any]:
    """What produced the fused score (written into ``metrics.json``)."""
    return {
        "objective": options.objective,
        "direction": options.direction,
        "members": {
            m.name: {
                "scores": str(m.path),
                "column": m.column,
                "normalization": m.normalization,
                "weight": weights[m.name],
            }
            for m in members
        },
        "fusion": options.fusion,
        "smoothing": options.smoothing(),
    }


def _report(
    frame: pd.DataFrame,
    members: list[Member],
    options: EnsembleOptions,
    results: dict[str, Any],
    output_dir: Path,
) -> None:
    """Each member alone (same protocol and smoothing), metrics on all videos, per-video table,
    ``report.md`` and figures."""
    comparison = {}
    for m in members:
        alone = frame.assign(score=smoothed(frame, frame[m.name].to_numpy(), options))
        comparison[m.name] = evaluate_splits(alone, options)
    comparison["fused"] = results
    results["members_alone"] = {
        name: {k: v for k, v in r.items() if k in ("value", "eval", "cv")}
        for name, r in comparison.items()
        if name != "fused"
    }
    videos = list(pd.unique(frame["video"]))
    results["all_videos"] = metrics(frame, videos)
    sets = _video_sets(results, videos)
    write_csv(
        video_table(frame, [m.name for m in members], sets),
        output_dir / "per_video.csv",
        float_format="%.6f",
    )
    write_ensemble_report(frame, results, comparison, output_dir, sets)
    console.print(f"report: {output_dir / 'report.md'}")


def _video_sets(results: Mapping[str, Any], videos: list[str]) -> dict[str, str]:
    if "folds" in results:
        return {v: f"fold {f['fold']}" for f in results["folds"] for v in f["eval"]["videos"]}
    tune, held_out = set(results["tune"]["videos"]), set(results["eval"]["videos"])
    return {
        v: "tune+eval" if v in tune and v in held_out else "tune" if v in tune else "eval"
        for v in videos
    }


def _print(results: Mapping[str, Any], options: EnsembleOptions, sweep: bool) -> None:
    objective = options.objective
    if "cv" in results:
        cv = results["cv"][objective]
        line = (
            f"{objective}: all videos {results['value']:.4f}; this configuration on the held-out "
            f"folds ({results['protocol']}) {cv['mean']:.4f} ± {cv['std']:.4f}"
        )
    else:
        line = (
            f"{objective}: tune {results['value']:.4f}, "
            f"eval {results['eval'][objective]:.4f} ({results['protocol']})"
        )
    console.print(line, soft_wrap=True, highlight=False)
    if not sweep and "eval" in results:
        summary = {k: v for k, v in results["eval"].items() if k != "videos"}
        print_metrics(summary, title=f"fused score on the eval videos {results['eval']['videos']}")
