"""The Python API: ``vad.train``, ``vad.predict`` and ``vad.ensemble`` for notebooks and scripts.

Each takes the command line's overrides, as a list of strings and/or keyword arguments (nested
mappings become dotted keys)::

    import vad
    run = vad.train(["experiment=demo"], trainer={"max_epochs": 2})
    scored = vad.predict(ckpt_path=run.run_dir)
    scored.metrics["micro_auc"], scored.scores.head()

Every call composes the same configs as ``train.py`` / ``predict.py`` / ``ensemble.py``, writes
its own run folder (``outputs/<task>/<date>_<time>-<microseconds>``) and can be repeated in one
process; the working directory is never changed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from vad.io.atomic import write_text
from vad.utils.configs import config_dir

#: characters that make a value need quoting in Hydra's override grammar
_SPECIAL = set(" ,=[]{}()'\"\\:$*?")


@dataclass
class RunResult:
    """What a call produced: its run folder, its metrics (``train_metrics.json`` for training,
    ``metrics.json`` otherwise; empty without labels), its per-frame scores (``scores.csv``, or
    ``fused_scores.csv`` for an ensemble; None when none were written) and the value the task
    returns to sweeps (``optimized_metric``)."""

    run_dir: Path
    metrics: dict[str, Any]
    scores: pd.DataFrame | None
    value: float | None


def train(overrides: Iterable[str] = (), **settings: Any) -> RunResult:
    """Train a model (``python train.py ...``)."""
    from vad.tasks.train import train as train_task

    return _run("train", train_task, "train_metrics.json", "scores.csv", overrides, settings)


def predict(overrides: Iterable[str] = (), **settings: Any) -> RunResult:
    """Score videos with a trained model or its ONNX export (``python predict.py
    ckpt_path=...``)."""
    from vad.tasks.deployed import predict_any

    return _run("predict", predict_any, "metrics.json", "scores.csv", overrides, settings)


def ensemble(overrides: Iterable[str] = (), **settings: Any) -> RunResult:
    """Fuse the scores of several runs (``python ensemble.py 'members=[<run>,...]'``)."""
    from vad.tasks.ensemble import ensemble as ensemble_task

    return _run("ensemble", ensemble_task, "metrics.json", "fused_scores.csv", overrides, settings)


#: top-level keys whose entries are the user's own names (added with ``++``, not checked)
OPEN_KEYS = ("members", "weights")


def to_overrides(settings: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Keyword settings as override strings: ``{"trainer": {"max_epochs": 2}}`` ->
    ``["trainer.max_epochs=2"]``; lists, booleans, None and paths as Hydra reads them. Entries
    under ``OPEN_KEYS`` (an ensemble's members and weights, named by the user) are added."""
    out = []
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out += to_overrides(value, f"{name}.")
        else:
            add = "++" if name.split(".", 1)[0] in OPEN_KEYS and "." in name else ""
            out.append(f"{add}{name}={_value(value)}")
    return out


def _value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_value(v) for v in value) + "]"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if any(c in _SPECIAL for c in text) or not text.isascii():
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return text


def compose_run(name: str, overrides: Iterable[str]) -> DictConfig:
    """The composed config of ``conf/<name>.yaml`` with a fresh run folder, ready for a task."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3", job_name=name):
        cfg = compose(config_name=name, overrides=list(overrides), return_hydra_config=True)
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S-%f")
    with open_dict(cfg):
        cfg.hydra.runtime.cwd = os.getcwd()
        cfg.hydra.runtime.output_dir = "."  # placeholder until the run folder is known
        cfg.hydra.job.num = 0
    HydraConfig().set_config(cfg)
    run = Path(str(cfg.paths.log_dir)) / str(cfg.task_name) / stamp
    with read_write(cfg.hydra.runtime):
        cfg.hydra.runtime.output_dir = str(run)
    with open_dict(cfg):
        cfg.paths.output_dir = str(run)
    HydraConfig().set_config(cfg)
    plain = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    write_text(OmegaConf.to_yaml(plain), run / ".hydra" / "config.yaml")
    write_text(OmegaConf.to_yaml(list(overrides)), run / ".hydra" / "overrides.yaml")
    return cfg


def _run(
    name: str,
    task: Callable[[DictConfig], float | None],
    metrics_file: str,
    scores_file: str,
    overrides: Iterable[str],
    settings: Mapping[str, Any],
) -> RunResult:
    if isinstance(overrides, str):
        overrides = [overrides]
    arguments = [*overrides, *to_overrides(settings)]
    cfg = compose_run(name, arguments)
    try:
        value = task(cfg)
    finally:
        GlobalHydra.instance().clear()
    run = Path(cfg.paths.output_dir)
    metrics_path, scores_path = run / metrics_file, run / scores_file
    metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    scores = pd.read_csv(scores_path, dtype={"video": str}) if scores_path.is_file() else None
    return RunResult(run, metrics, scores, value)
