"""``report.md``: the metrics table, per-video rows and links to every figure of a run."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from vad.io.atomic import write_text
from vad.visualization.curves import GRID_MAX_VIDEOS, write_curve_grid, write_video_curves
from vad.visualization.examples import Example, write_examples
from vad.visualization.roc import write_pr, write_roc

FIGURES = "figures"
SUMMARY_ROWS = [
    ("micro_auc", "micro AUC (frames pooled)"),
    ("macro_auc", "macro AUC (mean over two-class videos)"),
    ("macro_auc_padded", "macro AUC, padded (AI-VAD / Jigsaw convention, all videos)"),
    ("ap", "AP (frames pooled)"),
    ("eer", "EER (frames pooled)"),
    ("pixel_auroc", "pixel AUROC (pixels pooled)"),
    ("ucsd_pixel_rd", "UCSD pixel-level criterion: detection rate at EER (40% of pixels)"),
    ("ucsd_pixel_auc", "UCSD pixel-level criterion: AUC"),
    ("rbdc", "RBDC (region-based detection, area for 0-1 false regions per frame)"),
    ("tbdc", "TBDC (track-based detection, area for 0-1 false regions per frame)"),
    ("frames", "frames"),
    ("anomalous_frames", "anomalous frames"),
    ("videos", "videos"),
    ("macro_videos", "two-class videos"),
]


def write_report(
    frame: pd.DataFrame,
    summary: Mapping[str, Any],
    per_video: pd.DataFrame,
    output_dir: str | Path,
    title: str = "Evaluation report",
    protocol: str = "",
    examples: Sequence[Example] = (),
) -> dict[str, Path]:
    """Draw every figure of a scored, labelled frame table (``video, frame, score, label``) and
    write ``<output_dir>/report.md``. Returns figure key -> PNG path (for experiment loggers)."""
    output_dir = Path(output_dir)
    figures_dir = output_dir / FIGURES
    figures: dict[str, Path] = {}
    for key, writer in (("roc", write_roc), ("pr", write_pr)):
        path = writer(frame, figures_dir / f"{key}.png")
        if path is not None:
            figures[key] = path
    figures["score_curves"] = write_curve_grid(frame, figures_dir / "score_curves.png", per_video)
    curves = write_video_curves(frame, figures_dir / "videos", per_video)
    figures.update({f"videos/{video}": path for video, path in curves.items()})
    example_paths, grid = write_examples(examples, figures_dir / "top")
    if grid is not None:
        figures["top_frames"] = grid
    figures.update({f"top/{p.stem}": p for p in example_paths})
    text = _markdown(title, protocol, summary, per_video, curves, examples, figures, output_dir)
    write_text(text, output_dir / "report.md")
    return figures


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.4f}"
    return str(value)


def _link(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _markdown(
    title: str,
    protocol: str,
    summary: Mapping[str, Any],
    per_video: pd.DataFrame,
    curves: Mapping[str, Path],
    examples: Sequence[Example],
    figures: Mapping[str, Path],
    root: Path,
) -> str:
    lines = [f"# {title}", ""]
    if protocol:
        lines += [f"Score: {protocol}.", ""]
    lines += ["| metric | value |", "|---|---|"]
    lines += [f"| {name} | {_fmt(summary[key])} |" for key, name in SUMMARY_ROWS if key in summary]
    lines += [""]
    for key, caption in (("roc", "ROC"), ("pr", "Precision-recall")):
        if key in figures:
            lines += [f"![{caption}]({_link(figures[key], root)})"]
    lines += ["", "## Score curves (ground-truth anomalies shaded)", ""]
    lines += [f"![score curves]({_link(figures['score_curves'], root)})", ""]
    if len(per_video) > GRID_MAX_VIDEOS:
        lines += [
            f"The grid shows the first {GRID_MAX_VIDEOS} videos; every video has its own PNG.",
            "",
        ]
    lines += [
        "| video | frames | anomalous | AUC | AUC padded | AP | curve |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in per_video.to_dict("records"):
        video = str(row["video"])
        link = f"[png]({_link(curves[video], root)})" if video in curves else ""
        cells = [row.get(k) for k in ("frames", "anomalous", "auc", "auc_padded", "ap")]
        lines += [f"| {video} | " + " | ".join(_fmt(c) for c in cells) + f" | {link} |"]
    if examples:
        lines += ["", f"## The {len(examples)} most anomalous frames", ""]
        lines += [
            "Frame, prediction/reconstruction and squared-error heatmap"
            " (ground-truth outline in cyan where the video has pixel masks).",
            "",
        ]
        lines += [f"![top frames]({_link(figures['top_frames'], root)})", ""]
        lines += ["| rank | video | frame | score | label | figure |", "|---|---|---|---|---|---|"]
        for rank, e in enumerate(examples, start=1):
            link = f"[png]({_link(e.path, root)})" if e.path else ""
            label = "" if e.label is None else str(e.label)
            lines += [f"| {rank} | {e.video} | {e.frame} | {e.score:.4g} | {label} | {link} |"]
    return "\n".join(lines) + "\n"
