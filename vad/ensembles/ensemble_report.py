"""``report.md`` of an ensemble run: the protocol, each member alone vs the fused score, the ROC
of the fused score, every member's curve with the fused one, and per-video AUCs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from vad.ensembles.evaluation import REPORTED, subset
from vad.ensembles.figure import write_member_curves
from vad.io.atomic import write_text
from vad.scoring.metrics import roc_auc
from vad.visualization.roc import write_roc

FIGURES = "figures"


def write_ensemble_report(
    frame: pd.DataFrame,
    results: Mapping[str, Any],
    comparison: Mapping[str, Mapping[str, Any]],
    output_dir: str | Path,
    sets: Mapping[str, str],
) -> dict[str, Path]:
    """Figures and ``report.md``; ``comparison`` maps each member and "fused" to its
    ``evaluate_splits`` result, ``sets`` each video to "tune", "eval" or a fold name."""
    output_dir = Path(output_dir)
    members = [name for name in comparison if name != "fused"]
    per_video = video_table(frame, members, sets)
    titles = {
        str(r["video"]): f"video {r['video']} ({r['set']}, fused AUC {_fmt(r['fused'])})"
        for r in per_video.to_dict("records")
    }
    figures = write_member_curves(frame, members, output_dir / FIGURES, titles)
    eval_videos = [v for v, s in sets.items() if s == "eval"]
    where = "the eval videos" if eval_videos else "all videos"
    roc = write_roc(
        subset(frame, eval_videos or list(sets)), output_dir / FIGURES / "roc.png", "fused"
    )
    if roc is not None:
        figures["roc"] = roc
    lines = _header(results) + _comparison(results, comparison)
    if roc is not None:
        lines += [f"![ROC of the fused score on {where}]({FIGURES}/roc.png)", ""]
    lines += ["## Member curves and the fused score (ground truth shaded)", ""]
    lines += [f"![member curves]({FIGURES}/member_curves.png)", ""]
    lines += _markdown_table(per_video)
    write_text("\n".join(lines) + "\n", output_dir / "report.md")
    return figures


def video_table(
    frame: pd.DataFrame, members: Sequence[str], sets: Mapping[str, str]
) -> pd.DataFrame:
    """Per video: its set, frame counts and the ROC AUC of the fused score and of each member."""
    rows = []
    for video, group in frame.groupby("video", sort=False):
        labels = group["label"].to_numpy()
        row = {"video": video, "set": sets.get(str(video), ""), "frames": len(group)}
        row["anomalous"] = int(labels.sum())
        for name in ["score", *members]:
            row["fused" if name == "score" else name] = roc_auc(labels, group[name].to_numpy())
        rows.append(row)
    return pd.DataFrame(rows)


def _header(results: Mapping[str, Any]) -> list[str]:
    lines = ["# Ensemble report", "", "| member | scores | column | normalisation | weight |"]
    lines += ["|---|---|---|---|---|"]
    for name, m in results["members"].items():
        cells = [name, m["scores"], m["column"], m["normalization"], f"{m['weight']:.4g}"]
        lines += ["| " + " | ".join(cells) + " |"]
    smoothing = results["smoothing"]
    lines += [
        "",
        f"Fusion `{results['fusion']}`; smoothing per video: median {smoothing['median']}, "
        f"Gaussian sigma {smoothing['sigma']:g}.",
        "",
        f"Protocol: {results['protocol']}; objective `{results['objective']}`.",
        "",
    ]
    return lines


def _comparison(
    results: Mapping[str, Any], comparison: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    objective = results["objective"]
    if "cv" in results:
        head = "| score | " + " | ".join(f"{k} (mean ± std over folds)" for k in REPORTED) + " |"
        rows = [
            f"| {name} | "
            + " | ".join(
                f"{_fmt(r['cv'][k]['mean'])} ± {_fmt(r['cv'][k]['std'])}" for k in REPORTED
            )
            + " |"
            for name, r in comparison.items()
        ]
    else:
        head = f"| score | tune {objective} | " + " | ".join(f"eval {k}" for k in REPORTED) + " |"
        rows = [
            f"| {name} | {_fmt(r['value'])} | "
            + " | ".join(_fmt(r["eval"][k]) for k in REPORTED)
            + " |"
            for name, r in comparison.items()
        ]
    rule = "|" + "---|" * (head.count("|") - 1)
    note = "Each member alone uses its own normalisation and the same smoothing as the fused score."
    if "cv" in results:
        note += " Every row is this fixed configuration on each held-out fold (nothing tuned)."
    return ["## Members alone vs the ensemble", "", note, "", head, rule, *rows, ""]


def _markdown_table(table: pd.DataFrame) -> list[str]:
    head = "| " + " | ".join(str(c) for c in table.columns) + " |"
    rule = "|" + "---|" * len(table.columns)
    rows = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return ["## Per video (ROC AUC; n/a for one-class videos)", "", head, rule, *rows]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.4f}"
    return str(value)
