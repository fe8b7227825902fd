"""An exponential moving average (EMA) of a model's weights, used for validation, checkpoints
and therefore scoring.

After every optimiser step ``ema = d * ema + (1 - d) * weights`` with ``d = min(decay, (1 + n) /
(10 + n))`` at step n (the usual warm-up, so early averages are not dominated by the random
initialisation). Float parameters and buffers (BatchNorm statistics) are averaged; the model's
fitted statistics (``fitted.*``, measured on validation videos) are not: validation runs with the
averaged weights, so they are measured on those.

Checkpoints hold the averaged weights in ``state_dict`` (what ``predict.py`` loads) and the raw
weights under ``ema_current``, so a resumed run continues both.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

#: state-dict prefixes that are measured, not learned: never averaged or swapped
EXCLUDED = ("fitted.",)
CURRENT_KEY = "ema_current"


class WeightEMA(Callback):
    """EMA of the weights with ``decay`` (0.999 is common; 0.99 for short CPU runs)."""

    def __init__(self, decay: float = 0.999) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = float(decay)
        self.average: dict[str, torch.Tensor] | None = None
        self.backup: dict[str, torch.Tensor] | None = None
        self.steps = 0

    def _tracked(self, module: L.LightningModule) -> dict[str, torch.Tensor]:
        state = module.state_dict(keep_vars=True)
        return {k: v for k, v in state.items() if torch.is_tensor(v) and not k.startswith(EXCLUDED)}

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.average is None:
            self.average = {k: v.detach().clone() for k, v in self._tracked(pl_module).items()}

    @torch.no_grad()
    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any, **kwargs: Any
    ) -> None:
        decay = min(self.decay, (1 + self.steps) / (10 + self.steps))
        for name, value in self._tracked(pl_module).items():
            average = self.average[name]
            if value.is_floating_point():
                average.mul_(decay).add_(value.detach(), alpha=1 - decay)
            else:
                average.copy_(value)
        self.steps += 1

    @torch.no_grad()
    def _swap(self, pl_module: L.LightningModule) -> None:
        for name, value in self._tracked(pl_module).items():
            held = self.average[name].clone()
            self.average[name].copy_(value.detach())
            value.data.copy_(held)

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.average is not None and not trainer.sanity_checking:
            self._swap(pl_module)  # validate (and measure fitted statistics) with the average
            self.backup = {}

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.backup is not None:
            self._swap(pl_module)
            self.backup = None

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if self.average is None:
            return
        state = checkpoint["state_dict"]
        swapped = self.backup is not None  # saved during validation: the module holds the EMA
        current = self.average if swapped else state
        average = state if swapped else self.average
        checkpoint[CURRENT_KEY] = {k: current[k].detach().clone() for k in self.average}
        checkpoint["state_dict"] = {
            **state,
            **{k: average[k].detach().clone() for k in self.average},
        }

    @torch.no_grad()
    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        """Resume (called after the module loaded ``state_dict``, the average): the average
        continues from it and the module from the raw weights."""
        current = checkpoint.get(CURRENT_KEY)
        if current is None:
            return
        tracked = self._tracked(pl_module)
        self.average = {k: tracked[k].detach().clone() for k in current}
        for name, value in current.items():
            tracked[name].data.copy_(value)

    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "decay": self.decay}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.steps = int(state_dict.get("steps", 0))
