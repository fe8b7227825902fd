"""Experiment loggers of a run (CSV, TensorBoard, W&B): created from ``cfg.logger``, given the
composed config, the final metrics, per-video table and figures, and finished when the run ends,
so that every job of a multirun is its own, closed W&B run."""

from __future__ import annotations

import logging
import numbers
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from vad.tasks.instantiate import instantiate_dict
from vad.visualization.loggers import log_figures

log = logging.getLogger(__name__)


@contextmanager
def run_loggers(cfg: DictConfig) -> Iterator[list[Any]]:
    """The loggers of ``cfg.logger``, with the composed config logged; finished on exit (W&B
    runs are closed with exit code 1 when the run failed)."""
    loggers = instantiate_dict(cfg.get("logger"), "logger")
    try:
        log_config(loggers, cfg)
        yield loggers
    except BaseException:
        finish_loggers(loggers, failed=True)
        raise
    finish_loggers(loggers)


def log_config(loggers: Sequence[Any], cfg: DictConfig) -> None:
    """The resolved config (without Hydra's own) as the loggers' hyper-parameters."""
    if not loggers:
        return
    plain = {
        str(k): OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v
        for k, v in cfg.items()
        if k != "hydra"
    }
    for logger in loggers:
        _safely(logger, "log_hyperparams", plain)


def log_run_results(
    loggers: Sequence[Any],
    metrics: Mapping[str, Any],
    figures: Mapping[str, str | Path] | None = None,
    per_video: pd.DataFrame | None = None,
    prefix: str = "",
) -> None:
    """Numeric ``metrics`` (nested dicts flattened with ``/``), the per-video table and figures."""
    numbers_only = {f"{prefix}{k}": v for k, v in _flatten(metrics).items()}
    for logger in loggers:
        _safely(logger, "log_metrics", numbers_only)
        if per_video is not None and not per_video.empty:
            _log_table(logger, f"{prefix}per_video", per_video)
    if figures:
        log_figures(loggers, {f"{prefix}{k}": v for k, v in figures.items()})


def log_test_results(
    loggers: Sequence[Any], metrics: Mapping[str, Any], output_dir: str | Path
) -> None:
    """The metrics of scored test videos and their ``per_video.csv`` (when written), as
    ``test/...``."""
    if not loggers:
        return
    path = Path(output_dir) / "per_video.csv"
    table = pd.read_csv(path, dtype={"video": str}) if path.is_file() else None
    log_run_results(loggers, metrics, per_video=table, prefix="test/")


def finish_loggers(loggers: Sequence[Any], failed: bool = False) -> None:
    """Flush every logger and close its run; a W&B run that was started is finished."""
    for logger in loggers:
        _safely(logger, "finalize", "failed" if failed else "success")
        experiment = getattr(logger, "_experiment", None)
        if experiment is not None and callable(getattr(experiment, "finish", None)):
            _safely(experiment, "finish", exit_code=1 if failed else 0)


def _flatten(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}/"))
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


def _log_table(logger: Any, key: str, table: pd.DataFrame) -> None:
    if callable(getattr(logger, "log_table", None)):  # W&B
        _safely(logger, "log_table", key=key, dataframe=table)
        return
    experiment = getattr(logger, "experiment", None)
    if callable(getattr(experiment, "add_text", None)):  # TensorBoard
        _safely(experiment, "add_text", key, f"```\n{table.to_string(index=False)}\n```")


def _safely(target: Any, method: str, *args: Any, **kwargs: Any) -> None:
    """Call a logger method; a logger failure is reported but never loses the run's results."""
    try:
        getattr(target, method)(*args, **kwargs)
    except Exception as exc:
        log.warning("%s.%s failed: %s", type(target).__name__, method, exc)
