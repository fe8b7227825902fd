"""The label-free validation score, logged every validation epoch as ``val/pseudo_auc``.

Held-out validation videos are normal, so anomalies are simulated in copies of them (segments
played faster, and one of their moving objects pasted gliding fast through a segment:
``vad.scoring.pseudo_anomaly``) and the model's score column is asked to find them. The mean over
the kinds is ``val/pseudo_auc``; each kind is also logged (``val/pseudo_auc_x2``, ...).
Checkpoints can be selected on it (``callbacks.model_checkpoint.monitor=val/pseudo_auc``,
``mode=max``) without any test label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from vad.callbacks.validation_count import EveryNValidations
from vad.errors import VADError
from vad.scoring.pseudo_anomaly import kinds_aucs, pseudo_copies
from vad.scoring.scorer import Scorer

KEY = "val/pseudo_auc"


class MonitorError(VADError, ValueError):
    """A callback monitors the label-free score where it is not logged at every validation."""


class LabelFreeValidation(EveryNValidations):
    """Logs ``val/pseudo_auc`` of ``column`` every ``every_n_validations`` validations (counted
    across epochs, as a step budget validates every N steps)."""

    def __init__(
        self,
        column: str | None = None,
        factors: Sequence[int] = (2, 3),
        every_n_validations: int = 1,
        aggregate: str = "mean",
        pasted: Mapping[str, Any] | None = None,
        sigma: float = 0.0,
    ) -> None:
        if every_n_validations < 1 or not factors or min(factors) < 2:
            raise ValueError(
                f"every_n_validations must be >= 1 and factors >= 2, got {every_n_validations}, "
                f"{factors}"
            )
        self.column, self.factors = column, tuple(int(f) for f in factors)
        super().__init__(every_n_validations)
        self.aggregate = aggregate
        self.pasted = dict(pasted) if pasted else None
        self.sigma = float(sigma)
        self.history: list[float] = []
        self._copies: dict[str, list] | None = None

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        if not self.due():
            return
        pl_module.finish_fitted()  # this epoch's validation moments, before scoring with them
        kinds = [f"x{f}" for f in self.factors] + (["pasted"] if self.pasted else [])
        values = torch.full((len(kinds),), float("nan"))
        if trainer.is_global_zero:
            if self._copies is None:  # the copies do not depend on the weights: made once
                self._copies = pseudo_copies(
                    pl_module,
                    trainer.datamodule.videos("val"),
                    self.factors,
                    trainer.datamodule.modality_settings,
                    self.pasted,
                )
            aucs = kinds_aucs(
                Scorer(pl_module, self.aggregate),
                self._copies,
                self.column or pl_module.contract.score_column,
                sigma=self.sigma,
                stride=getattr(trainer.datamodule, "eval_stride", 1),
            )
            values = torch.tensor([aucs.get(kind, float("nan")) for kind in kinds])
        values = trainer.strategy.broadcast(values)
        found = values[torch.isfinite(values)]
        value = found.mean() if found.numel() else torch.tensor(float("nan"))
        self.history.append(float(value))
        pl_module.log(KEY, value, prog_bar=True, batch_size=1)
        for kind, auc in zip(kinds, values, strict=True):
            pl_module.log(f"{KEY}_{kind}", auc, batch_size=1)


def check_monitors(callbacks: Sequence[Callback]) -> None:
    """A ``MonitorError`` before training when a callback (early stopping, the checkpoint)
    monitors ``val/pseudo_auc`` but the score is off or not logged at every validation: those
    callbacks read their metric after each validation."""
    watching = [type(c).__name__ for c in callbacks if str(getattr(c, "monitor", "")) == KEY]
    if not watching:
        return
    scores = [c for c in callbacks if isinstance(c, LabelFreeValidation)]
    if not scores:
        raise MonitorError(
            f"{', '.join(watching)} monitor {KEY}, but callbacks.label_free_validation is off; "
            "add it to the callbacks or monitor val/loss"
        )
    if scores[0].every_n > 1:
        raise MonitorError(
            f"{', '.join(watching)} monitor {KEY}, which "
            f"callbacks.label_free_validation.every_n_validations={scores[0].every_n} logs only "
            "at every few validations; set it to 1 or monitor val/loss"
        )
