"""Score videos with a trained checkpoint and evaluate them when labels exist."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from vad.errors import CheckpointError
from vad.models.checkpoint import load_model, resolve_checkpoint
from vad.scoring.options import ScoringOptions
from vad.tasks.infer import infer
from vad.tasks.instantiate import instantiate_datamodule
from vad.tasks.printing import console, print_config_tree
from vad.tasks.run_settings import check_compatible, model_bound, run_scoring
from vad.tasks.score import ensure_score_stats, score_videos
from vad.tasks.tracking import log_test_results, run_loggers
from vad.utils.console import console_copied_to, quiet_library_noise
from vad.utils.precision import affordable_precision

log = logging.getLogger(__name__)


def predict(cfg: DictConfig) -> float | None:
    """Write ``scores.csv`` (and metrics, report) for the test videos of ``cfg.data`` or, when no
    data config is given, of the dataset the checkpoint was trained on; with ``cfg.source`` (a
    video file, a folder of frames or of videos) stream that footage instead (``vad.tasks.infer``).

    Train-statistics normalisations use the statistics stored in the checkpoint; when it has none
    (``scoring.train_stats=auto``) or on request (``refit``) they are computed on the held-out
    validation videos of the checkpoint's own dataset and stored in the checkpoint.
    """
    quiet_library_noise()
    with console_copied_to(Path(cfg.paths.output_dir) / f"{cfg.task_name}.log"):
        return _predict(cfg)


def _predict(cfg: DictConfig) -> float | None:
    output_dir = Path(cfg.paths.output_dir)
    affordable_precision(cfg)
    print_config_tree(cfg, output_dir / "config_tree.yaml")
    if cfg.get("ckpt_path") is None:
        raise CheckpointError("predict needs ckpt_path=<checkpoint or training run folder>")
    with run_loggers(cfg) as loggers:
        if cfg.get("source") not in (None, ""):  # source=0 is a camera
            infer(cfg, loggers)
            return None
        return _predict_dataset(cfg, output_dir, loggers)


def _predict_dataset(cfg: DictConfig, output_dir: Path, loggers: list[Any]) -> float | None:
    ckpt = resolve_checkpoint(cfg.ckpt_path)
    model, meta = load_model(ckpt)
    data = cfg.get("data")
    data = OmegaConf.create(meta["data"]) if data is None else model_bound(data, meta["data"])
    check_compatible(meta, data, ckpt)
    if cfg.get("batch_size"):
        with open_dict(data):
            data.eval_batch_size = cfg.batch_size
    console.print(f"model {meta['model']['_target_']} from {ckpt}")
    datamodule = instantiate_datamodule(data, cfg.get("preprocess"))
    options = ScoringOptions.from_config(run_scoring(cfg.scoring, meta.get("scoring"), ckpt))
    own_data = datamodule if cfg.get("data") is None else None
    ensure_score_stats(cfg, model, meta, ckpt, options.needs_train_stats, own_data)
    metrics: dict[str, Any] = score_videos(
        model, datamodule, cfg.trainer, output_dir, options, loggers
    )
    log_test_results(loggers, metrics, output_dir)
    value = metrics.get(cfg.get("optimized_metric") or "")
    return float(value) if value is not None else None
