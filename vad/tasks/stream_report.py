"""What a streaming run writes besides its scores: one score curve per video with the alarm
threshold, and the run summary (``infer.json``: frames, alarms, throughput, seconds by stage)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from vad.inference.alarm import AlarmScore
from vad.inference.stream_sources import StreamSource
from vad.visualization.curves import draw_video, write_curve_grid
from vad.visualization.figures import new_figure, safe_name, save_png


def write_curves(scores: pd.DataFrame, threshold: float, output_dir: Path) -> dict[str, Path]:
    """``curves/<video>.png`` with the threshold line, and ``score_curve.png`` (all videos)."""
    for video, group in scores.groupby("video", sort=False):
        figure = new_figure(6.4, 2.4)
        ax = figure.add_subplot()
        draw_video(ax, group, f"video {video}", "online score")
        ax.axhline(threshold, color="tab:red", lw=0.8, ls="--")
        save_png(figure, output_dir / "curves" / f"{safe_name(video)}.png")
    grid = write_curve_grid(scores, output_dir / "score_curve.png")
    return {"score_curve": grid}


def stream_summary(
    scores: pd.DataFrame,
    sources: Sequence[StreamSource],
    alarm: AlarmScore,
    seconds: float,
    annotated: Mapping[str, Path | None],
    stages: Mapping[str, float],
) -> dict[str, Any]:
    """``infer.json``: per video its frames, alarms and annotated copy; throughput and the
    seconds of each stage (``vad.inference.stage_clock``)."""
    videos = {}
    for source in sources:
        rows = scores[scores["video"] == source.video]
        videos[source.video] = {
            "source": source.location,
            "frames": len(rows),
            "alarms": int(rows["alarm"].sum()),
            "annotated": str(annotated.get(source.video) or ""),
        }
    return {
        "frames": len(scores),
        "seconds": seconds,
        "frames_per_s": len(scores) / seconds if seconds > 0 else float("nan"),
        "threshold": alarm.threshold,
        "score": alarm.describe(),
        "alarms": int(scores["alarm"].sum()),
        "seconds_by_stage": {name: round(value, 3) for name, value in stages.items()},
        "videos": videos,
    }
