"""Per video: every member's curve and the fused curve along the frame ids, ground truth shaded.

Members may be normalised differently, so every curve is scaled to [0, 1] within the video for
display only (the shape is what the figure compares; the metrics use the real scores).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from vad.visualization.curves import TRUTH_COLOR, anomalous_spans
from vad.visualization.figures import new_figure, safe_name, save_png

FUSED_COLOR = "black"
GRID_MAX_VIDEOS = 48


def _display(values: np.ndarray) -> np.ndarray:
    span = values.max() - values.min()
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


def draw_members(ax: Axes, group: pd.DataFrame, members: Sequence[str], title: str) -> None:
    """Member curves (thin) and the fused score (thick black) of one video."""
    group = group.sort_values("frame")
    frames = group["frame"].to_numpy()
    if "label" in group.columns:
        for first, last in anomalous_spans(frames, group["label"].to_numpy()):
            ax.axvspan(first - 0.5, last + 0.5, color=TRUTH_COLOR, alpha=0.15, lw=0)
    for name in members:
        ax.plot(frames, _display(group[name].to_numpy()), lw=0.8, alpha=0.8, label=name)
    ax.plot(frames, _display(group["score"].to_numpy()), color=FUSED_COLOR, lw=1.6, label="fused")
    ax.set_xlim(frames.min() - 0.5, frames.max() + 0.5)
    ax.set_ylim(-0.03, 1.03)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("frame id", fontsize=8)
    ax.set_ylabel("score (scaled per video)", fontsize=7)
    ax.tick_params(labelsize=7)


def write_member_curves(
    frame: pd.DataFrame,
    members: Sequence[str],
    out_dir: str | Path,
    titles: Mapping[str, str] | None = None,
    columns: int = 3,
) -> dict[str, Path]:
    """``member_curves.png`` (a grid of the first videos) and one PNG per video in ``videos/``;
    returns figure key -> path."""
    out_dir, titles = Path(out_dir), titles or {}
    groups = dict(tuple(frame.groupby("video", sort=False)))
    figures: dict[str, Path] = {}
    for video, group in groups.items():
        figure = new_figure(7.0, 2.6)
        ax = figure.add_subplot()
        draw_members(ax, group, members, titles.get(str(video), f"video {video}"))
        ax.legend(fontsize=6, loc="upper left", ncol=len(members) + 1)
        figures[f"videos/{video}"] = save_png(
            figure, out_dir / "videos" / f"{safe_name(video)}.png"
        )
    shown = list(groups)[:GRID_MAX_VIDEOS]
    columns = max(1, min(columns, len(shown)))
    rows = math.ceil(len(shown) / columns)
    figure = new_figure(4.2 * columns, 2.3 * rows + 0.4)
    for i, video in enumerate(shown):
        ax = figure.add_subplot(rows, columns, i + 1)
        draw_members(ax, groups[video], members, titles.get(str(video), f"video {video}"))
    handles, labels = figure.axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside upper center", ncol=len(members) + 1, fontsize=8)
    figures["member_curves"] = save_png(figure, out_dir / "member_curves.png")
    return figures
