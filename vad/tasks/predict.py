"""Score videos with a trained checkpoint and evaluate them when labels exist."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from vad.errors import CheckpointError
from vad.models.checkpoint import check_compatible, load_model, resolve_checkpoint
from vad.tasks.instantiate import instantiate_datamodule
from vad.tasks.report import console, print_config_tree
from vad.tasks.score import score_videos

log = logging.getLogger(__name__)


def predict(cfg: DictConfig) -> float | None:
    """Write ``scores.csv`` (and metrics) for the test videos of ``cfg.data`` or, when no data
    config is given, of the dataset the checkpoint was trained on."""
    output_dir = Path(cfg.paths.output_dir)
    print_config_tree(cfg, output_dir / "config_tree.yaml")
    if cfg.get("ckpt_path") is None:
        raise CheckpointError("predict needs ckpt_path=<checkpoint or training run folder>")
    ckpt = resolve_checkpoint(cfg.ckpt_path)
    model, meta = load_model(ckpt)
    data = cfg.get("data") or OmegaConf.create(meta["data"])
    check_compatible(meta, data, ckpt)
    if cfg.get("batch_size"):
        with open_dict(data):
            data.eval_batch_size = cfg.batch_size
    console.print(f"model {meta['model']['_target_']} from {ckpt}")
    datamodule = instantiate_datamodule(data, cfg.get("preprocess"))
    metrics: dict[str, Any] = score_videos(model, datamodule, cfg.trainer, output_dir, cfg.scoring)
    value = metrics.get(cfg.get("optimized_metric") or "")
    return float(value) if value is not None else None
