"""The optimisers of a ``VADModule``: the model's own (a Hydra partial) on the generator's
parameters, FFP's discriminator Adam when adversarial training is on, and an optional
per-step learning-rate schedule of the generator (``vad.models.schedules``)."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn


def generator_parameters(module: L.LightningModule) -> list[nn.Parameter]:
    """Every parameter of a ``VADModule`` but its discriminator's."""
    skip = {id(p) for p in module.discriminator.parameters()} if module.discriminator else set()
    return [p for p in module.parameters() if id(p) not in skip]


def build_optimizers(module: L.LightningModule) -> Any:
    """What ``configure_optimizers`` returns for ``module``."""
    opt_g = module.optimizer_factory(params=generator_parameters(module))
    optimizers = [opt_g]
    if module.discriminator is not None:
        betas = (0.5, 0.999)  # FFP's
        optimizers.append(
            torch.optim.Adam(module.discriminator.parameters(), lr=module.adv_lr, betas=betas)
        )
    if module.scheduler_factory is None:
        return optimizers[0] if len(optimizers) == 1 else optimizers
    total = module.trainer.estimated_stepping_batches
    scheduler = module.scheduler_factory(opt_g, total_steps=total)
    return optimizers, [{"scheduler": scheduler, "interval": "step"}]
