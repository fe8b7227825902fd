"""Per-video anomaly score curves with the ground-truth anomalies shaded (the classic
"regularity score" figure, drawn as an anomaly score: higher = more anomalous)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from vad.visualization.figures import new_figure, safe_name, save_png

SCORE_COLOR, TRUTH_COLOR, FILLED_COLOR = "tab:blue", "tab:red", "0.55"
#: videos drawn in the grid figure (every video has its own PNG)
GRID_MAX_VIDEOS = 48


def anomalous_spans(frames: np.ndarray, labels: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) frame ids of each run of anomalous frames; a gap in the ids ends a run."""
    frames, labels = np.asarray(frames), np.asarray(labels).astype(bool)
    spans, i = [], 0
    while i < len(frames):
        if not labels[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(frames) and labels[j + 1] and frames[j + 1] == frames[j] + 1:
            j += 1
        spans.append((int(frames[i]), int(frames[j])))
        i = j + 1
    return spans


def draw_video(ax: Axes, group: pd.DataFrame, title: str, ylabel: str = "anomaly score") -> None:
    """Score along frame ids; anomalous frames shaded; filled (warm-up) frames as grey dots."""
    group = group.sort_values("frame")
    frames, scores = group["frame"].to_numpy(), group["score"].to_numpy()
    if "label" in group.columns:
        for first, last in anomalous_spans(frames, group["label"].to_numpy()):
            ax.axvspan(first - 0.5, last + 0.5, color=TRUTH_COLOR, alpha=0.18, lw=0)
    ax.plot(frames, scores, color=SCORE_COLOR, lw=1.0)
    if "filled" in group.columns and group["filled"].any():
        filled = group["filled"].to_numpy().astype(bool)
        ax.plot(frames[filled], scores[filled], ".", color=FILLED_COLOR, ms=2.5)
    ax.set_xlim(frames.min() - 0.5, frames.max() + 0.5)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("frame id", fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)


def _title(video: str, metrics: dict | None) -> str:
    auc = (metrics or {}).get("auc")
    return f"video {video}" + (f" (AUC {auc:.3f})" if auc is not None and auc == auc else "")


def write_video_curves(
    frame: pd.DataFrame, out_dir: str | Path, per_video: pd.DataFrame | None = None
) -> dict[str, Path]:
    """One PNG per video (``<out_dir>/<video>.png``); returns video -> path."""
    metrics = _metrics_by_video(per_video)
    paths = {}
    for video, group in frame.groupby("video", sort=False):
        figure = new_figure(6.4, 2.4)
        draw_video(figure.add_subplot(), group, _title(str(video), metrics.get(str(video))))
        paths[str(video)] = save_png(figure, Path(out_dir) / f"{safe_name(video)}.png")
    return paths


def write_curve_grid(
    frame: pd.DataFrame,
    path: str | Path,
    per_video: pd.DataFrame | None = None,
    columns: int = 4,
    max_videos: int = GRID_MAX_VIDEOS,
) -> Path:
    """All videos (the first ``max_videos``) as a grid of small curves in one PNG."""
    metrics = _metrics_by_video(per_video)
    videos = list(pd.unique(frame["video"]))[:max_videos]
    columns = max(1, min(columns, len(videos)))
    rows = math.ceil(len(videos) / columns)
    figure = new_figure(3.2 * columns, 2.0 * rows)
    groups = dict(tuple(frame.groupby("video", sort=False)))
    for i, video in enumerate(videos):
        ax = figure.add_subplot(rows, columns, i + 1)
        draw_video(ax, groups[video], _title(str(video), metrics.get(str(video))), "score")
    return save_png(figure, path)


def _metrics_by_video(per_video: pd.DataFrame | None) -> dict[str, dict]:
    if per_video is None or per_video.empty:
        return {}
    return {str(row["video"]): row for row in per_video.to_dict("records")}
