"""The training step every ``VADModule`` takes, with the components it composes: skip-frame
pseudo-anomalies (``skip_frames``), FFP's adversarial updates (``adversarial``) and batches of
object crops that may hold no object (``object_crops``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import lightning as L
import torch

from vad.models.adversarial import adversarial_step
from vad.models.skip_frames import with_pseudo_anomalies
from vad.models.step_logging import check_finite, log_losses

if TYPE_CHECKING:
    from vad.data.batch import ClipBatch


def train_on(module: L.LightningModule, batch: ClipBatch) -> torch.Tensor | None:
    """The loss a ``VADModule`` minimises for ``batch`` (None: nothing to learn), logged; with
    a discriminator, both updates are made here (manual optimisation) and None is returned."""
    if module.objects and len(batch) == 0:
        return None  # no clip of this batch has a moving object
    batch = with_pseudo_anomalies(batch)
    out = module(batch)
    losses = module.losses(batch, out)
    if module.discriminator is not None:
        return adversarial_step(module, out, losses)
    check_finite(module, losses["loss"])
    log_losses(module, "train", losses)
    return losses["loss"]
