"""What a training or validation step reports: its losses in Lightning's log, and a clear
error when the loss stops being finite."""

from __future__ import annotations

import lightning as L
import torch

from vad.errors import TrainingError


def log_losses(module: L.LightningModule, stage: str, losses: dict[str, torch.Tensor]) -> None:
    """``<stage>/<name>`` for every loss: per step and epoch in training, per epoch (summed over
    ranks) in validation; ``loss`` on the progress bar."""
    train = stage == "train"
    for name, value in losses.items():
        module.log(
            f"{stage}/{name}",
            value.detach(),
            prog_bar=name == "loss",
            on_step=train,
            on_epoch=True,
            sync_dist=not train,
            batch_size=1,
        )


def check_finite(module: L.LightningModule, loss: torch.Tensor) -> None:
    """A ``TrainingError`` naming the step when ``loss`` is NaN or infinite."""
    if not torch.isfinite(loss):
        raise TrainingError(
            f"loss became {loss.item()} at step {module.global_step} (epoch "
            f"{module.current_epoch}); lower the learning rate or check the data for corrupt "
            "frames"
        )
