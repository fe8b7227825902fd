"""Validation moments that describe the weights they are stored with.

A model's fitted moments (STAE's per-position errors, the joint model's log errors, the error
grid of the location maps) are measured in each validation epoch. A checkpoint saved between
validations (``callbacks.timed_checkpoints``, a run stopped before its first validation) holds
weights newer than its moments, or no moments at all. Before such a checkpoint scores, one
validation pass over the held-out normal videos of its own dataset measures them again, and they
are stored in the checkpoint (its score statistics, fitted with the old moments, are dropped).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig

from vad.data.datamodule import VideoDataModule
from vad.models.base import VADModule
from vad.models.checkpoint import store_fitted
from vad.tasks.printing import console


def stale_moments(model: VADModule, weights_step: int | None) -> str | None:
    """Why the model's moments do not describe its weights (of ``weights_step``); None when
    they do, or when it declares none."""
    fitted = model.fitted
    if not fitted.shapes:
        return None
    if fitted.step is not None and weights_step is not None and fitted.step != weights_step:
        return f"they were measured at step {fitted.step}, the weights are of step {weights_step}"
    missing = fitted.unfitted()
    if missing:
        return f"{', '.join(missing)} never measured"
    return None


def refresh_moments(
    model: VADModule,
    meta: Mapping[str, Any],
    ckpt: str | Path,
    datamodule: VideoDataModule,
    trainer_cfg: DictConfig,
) -> bool:
    """Measure stale moments again on ``datamodule``'s validation videos (the checkpoint's own
    data) and store them in ``ckpt``; False when they are current or there are no such videos
    (the model's own checks then say what is missing)."""
    step = meta.get("global_step")
    reason = stale_moments(model, step)
    if reason is None or not len(datamodule.split_table("val")):
        return False
    console.print(f"validation moments of {ckpt}: {reason}; measuring them on its validation")
    datamodule.configure_clips(model.clip_length, model.modalities)
    trainer = hydra.utils.instantiate(
        trainer_cfg,
        devices=1,
        callbacks=[],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.validate(model, dataloaders=datamodule.val_dataloader(), verbose=False)
    model.eval()
    model.fitted.step = step
    model.fitted.score_stats = None  # fitted with the old moments
    store_fitted(ckpt, model)
    return True
