"""Console output of a run: the config tree and metric tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf
from rich.syntax import Syntax
from rich.table import Table
from rich.tree import Tree

from vad.io.atomic import write_text
from vad.utils.console import console


def print_config_tree(cfg: DictConfig, save_to: str | Path | None = None) -> None:
    """Save the composed config (``save_to``); print it as a tree of its top-level groups only
    when ``print_config`` is true (the console shows what matters: settings are in the file)."""
    if save_to is not None:
        write_text(OmegaConf.to_yaml(cfg, resolve=False), save_to)
    if not cfg.get("print_config", False):
        if save_to is not None:
            console.print(f"config: {save_to}", soft_wrap=True)
        return
    tree = Tree("config", guide_style="dim")
    for key, value in cfg.items():
        text = OmegaConf.to_yaml(value, resolve=False) if OmegaConf.is_config(value) else str(value)
        tree.add(str(key)).add(Syntax(text, "yaml"))
    console.print(tree)


def print_metrics(
    summary: dict, videos: pd.DataFrame | None = None, title: str = "metrics"
) -> None:
    """A table of pooled metrics and, when given, one of per-video metrics."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)
    if videos is not None and len(videos):
        per_video = Table(title="per video")
        for column in videos.columns:
            per_video.add_column(str(column), justify="right")
        for row in videos.itertuples(index=False):
            per_video.add_row(*[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row])
        console.print(per_video)
