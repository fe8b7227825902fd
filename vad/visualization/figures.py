"""Figure creation and saving shared by the plots (Agg canvas, deterministic PNGs)."""

from __future__ import annotations

import re
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from vad.io.atomic import atomic_path

DPI = 100


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches on its own Agg canvas."""
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_png(figure: Figure, path: str | Path) -> Path:
    """Write ``figure`` as a PNG atomically; no timestamp or version in the file."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", metadata={"Software": None})
    return Path(path)


def safe_name(text: str) -> str:
    """A file-name-safe version of a video id."""
    return re.sub(r"[^\w.-]+", "_", str(text)).strip("._") or "video"
