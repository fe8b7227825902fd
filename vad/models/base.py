"""The shared base LightningModule and the scoring contract of all models.

A model turns a clip batch into a ``Prediction`` (what it predicted or reconstructed, the frames
it should match and which frames those are), defines its training losses on it, and maps it to raw
error columns per scored frame (``frame_scores``). Predict steps return the ``Prediction``; the one
scorer (``vad.scoring.scorer``) turns it into rows keyed by video and *original* frame id. What a
model measures on its validation videos lives in ``self.fitted`` (``vad.models.fitted``). Nothing
downstream needs to know which model produced a score.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import lightning as L
import pandas as pd
import torch
from torch import nn

from vad.errors import DataError, TrainingError
from vad.models.adversarial import adversarial_step
from vad.models.components.discriminator import PatchDiscriminator
from vad.models.contract import ModelContract
from vad.models.fitted import FittedStatistics
from vad.models.map_scores import MapScores
from vad.models.object_crops import object_batch, object_settings, objects_as_frames
from vad.models.prediction import Prediction
from vad.models.prediction_errors import frame_errors
from vad.models.skip_frames import pseudo_anomaly_settings, with_pseudo_anomalies
from vad.utils.sizes import image_hw

__all__ = ["IMAGE_KEYS", "Prediction", "VADModule"]

#: per-frame arrays that hold images (uint8 -> [-1, 1]); others are only made float
IMAGE_KEYS = ("frames", "skip_frames")


class VADModule(L.LightningModule, ABC):
    """Base of every anomaly model.

    Args:
        image_size: (height, width) of the cached frames.
        channels: frame channels (1 grey, 3 RGB).
        optimizer: a partial optimiser (Hydra ``_partial_: true``) applied to the model parameters.
        scheduler: an optional partial LR scheduler taking ``(optimizer, total_steps=...)``; stepped
            every optimiser step.
        adversarial: ``{"weight", "lr", "width", "layers"}``; weight > 0 adds a PatchGAN LSGAN term.
        patch_size: k of the ``patch_max`` error (max over k x k average-pooled patches).
        pseudo_anomaly: ``{"probability", "skips"}``: skip-frame pseudo-anomalies (Astrid et al.,
            "Learning Not to Reconstruct Anomalies", BMVC 2021). A training clip is replaced,
            with ``probability``, by frames ``skip`` apart (``skip`` drawn from ``skips``, same
            start, same run); the model sees the skipped frames as input but must still output
            the *normal* clip's frames (``targets``), so it learns not to reproduce fast,
            unusual motion. Probability 0 = off.
        regions: score the error inside the motion boxes (``vad.models.region_scores``).
        objects: ``{"enabled", "size", "position"}``: train and score on object crops instead
            of whole frames (``vad.models.object_crops``).
    """

    #: the model's score column, data needs and kind of fit (``vad.models.contract``)
    contract: ClassVar[ModelContract] = ModelContract()

    def __init__(
        self,
        image_size: Sequence[int],
        channels: int,
        optimizer: Callable,
        scheduler: Callable | None = None,
        adversarial: dict | None = None,
        patch_size: int = 16,
        pseudo_anomaly: dict | None = None,
        regions: bool = False,
        objects: dict | None = None,
    ) -> None:
        super().__init__()
        self.pseudo_anomaly = pseudo_anomaly_settings(pseudo_anomaly)
        self.image_size, self.channels = image_hw(image_size), int(channels)
        if self.channels not in (1, 3):
            raise DataError(f"data.channels={channels!r} is invalid: 1 (grey) or 3 (RGB)")
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.patch_size = int(patch_size)
        adversarial = dict(adversarial or {})
        self.adv_weight = float(adversarial.get("weight", 0.0))
        self.adv_lr = float(adversarial.get("lr", 2e-5))
        self.discriminator: nn.Module | None = None
        if self.adv_weight > 0:
            self.discriminator = PatchDiscriminator(
                channels, adversarial.get("width", 32), adversarial.get("layers", 3)
            )
        self.automatic_optimization = self.discriminator is None
        # what validation measures (vad.models.fitted); models declare more moments
        self.fitted = FittedStatistics()
        self.map_scoring = MapScores(self.fitted, self.image_size, self.patch_size, regions)
        #: object-centric clips (``vad.models.object_crops``), or None for whole frames
        self.objects = object_settings(objects)
        #: the per-frame arrays this model's clips carry: the contract's, plus the motion boxes
        #: that region scoring and object crops need
        self.modalities: tuple[str, ...] = self.contract.modalities
        if (self.map_scoring.regions or self.objects) and "boxes" not in self.modalities:
            self.modalities = (*self.modalities, "boxes")

    @property
    def score_stats(self) -> dict[str, Any] | None:
        """Statistics of every score column on the validation videos (``vad.models.fitted``)."""
        return self.fitted.score_stats

    @score_stats.setter
    def score_stats(self, stats: dict[str, Any] | None) -> None:
        self.fitted.score_stats = stats

    # ---- what each model defines -------------------------------------------------------------
    @property
    @abstractmethod
    def clip_length(self) -> int:
        """Frames per clip (inputs and targets together)."""

    @abstractmethod
    def forward(self, batch: dict[str, Any]) -> Prediction:
        """Run the model on a float batch (see ``on_after_batch_transfer``)."""

    @abstractmethod
    def losses(self, batch: dict[str, Any], out: Prediction) -> dict[str, torch.Tensor]:
        """Training losses; ``"loss"`` is the total that is minimised."""

    def frame_scores(self, out: Prediction) -> dict[str, torch.Tensor]:
        """Raw error columns, one (B * P,) tensor each in clip-major order (clip b's P positions
        together, as ``out.frame_ids.flatten()``). Default: one target frame per clip."""
        return {**frame_errors(out.pred, out.target, self.patch_size), **self.map_scores(out)}

    def map_scores(self, out: Prediction) -> dict[str, torch.Tensor]:
        """Columns from the error maps and validation moments (``vad.models.map_scores``)."""
        return self.map_scoring.columns(out)

    def pixel_maps(self, out: Prediction) -> dict[str, torch.Tensor]:
        """Per-pixel anomaly maps (B, P, H, W) of the output frames: ``error`` (the squared error,
        or the model's own map) and, with region scoring, ``region`` (box scores painted)."""
        return {"error": out.error_maps(), **self.map_scoring.maps(out)}

    def update_map_moments(self, out: Prediction) -> None:
        """Add a validation batch's error maps to the fitted moments."""
        self.map_scoring.update(out)

    def predict_clips(self, batch: dict[str, Any]) -> Prediction:
        """``forward`` on a float batch, with the video and original id of every output frame."""
        out = self(batch)
        out.video = list(batch["video"])
        out.frame_ids = batch["frame_ids"][:, list(out.positions)]
        if "boxes" in batch:
            out.extra["boxes"] = batch["boxes"][:, list(out.positions)]
        if self.objects:
            objects_as_frames(batch, out, *self.image_size)
        return out

    def finalize_scores(self, scores: pd.DataFrame) -> pd.DataFrame:
        """Derive columns from the assembled one-row-per-frame table (e.g. a mix of branch errors
        that needs every branch's aggregate). Called once after prediction; default: unchanged."""
        return scores

    # ---- data --------------------------------------------------------------------------------
    def on_after_batch_transfer(self, batch: dict[str, Any], dataloader_idx: int) -> dict:
        """uint8 (B, L, H, W, C) frames -> float (B, L, C, H, W) in [-1, 1] on the device; other
        per-frame arrays (e.g. flow) are only moved to channels-first float."""
        for key, value in batch.items():
            if torch.is_tensor(value) and value.ndim == 5:
                value = value.permute(0, 1, 4, 2, 3).float()
                batch[key] = value / 127.5 - 1 if key in IMAGE_KEYS else value
        if self.objects:
            size, position = self.objects["size"], self.objects["position"]
            batch = object_batch(batch, size, position, training=self.training)
        return batch

    @staticmethod
    def targets(batch: dict[str, Any]) -> torch.Tensor:
        """The frames a model's outputs must match: the clip itself, or, for a pseudo-anomalous
        input (``with_pseudo_anomalies``), the normal clip of the same start."""
        return batch.get("targets", batch["frames"])

    # ---- training ----------------------------------------------------------------------------
    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor | None:
        if self.objects and len(batch["frames"]) == 0:
            return None  # no clip of this batch has a moving object: nothing to learn
        batch = with_pseudo_anomalies(batch)
        out = self(batch)
        losses = self.losses(batch, out)
        if self.discriminator is not None:
            return adversarial_step(self, out, losses)
        self._check_finite(losses["loss"])
        self._log_losses("train", losses)
        return losses["loss"]

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        out = self.predict_clips(batch)
        losses = self.losses(batch, out)
        errors = self.frame_scores(out)
        self._log_losses("val", {**losses, "psnr": errors["psnr"].mean()})
        self.update_map_moments(out)

    def on_validation_epoch_start(self) -> None:
        self.fitted.reset()

    def on_validation_epoch_end(self) -> None:
        self.finish_fitted()

    def finish_fitted(self) -> None:
        """Store this epoch's fitted moments (summed over DDP ranks; not after a sanity check).
        A second call in the same epoch changes nothing, so callbacks that score with them may
        call it first."""
        if not self.trainer.sanity_checking:
            self.fitted.finish(lambda t: self.trainer.strategy.reduce(t, reduce_op="sum"))

    def _log_losses(self, stage: str, losses: dict[str, torch.Tensor]) -> None:
        for name, value in losses.items():
            self.log(
                f"{stage}/{name}",
                value.detach(),
                prog_bar=name == "loss",
                on_step=stage == "train",
                on_epoch=True,
                sync_dist=stage != "train",
                batch_size=1,
            )

    def _check_finite(self, loss: torch.Tensor) -> None:
        if not torch.isfinite(loss):
            raise TrainingError(
                f"loss became {loss.item()} at step {self.global_step} "
                f"(epoch {self.current_epoch}); lower the learning rate or check "
                "the data for corrupt frames"
            )

    # ---- scoring -----------------------------------------------------------------------------
    def predict_step(
        self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0
    ) -> Prediction:
        return self.predict_clips(batch)

    # ---- optimisation ------------------------------------------------------------------------
    def generator_parameters(self) -> list[nn.Parameter]:
        skip = {id(p) for p in self.discriminator.parameters()} if self.discriminator else set()
        return [p for p in self.parameters() if id(p) not in skip]

    def configure_optimizers(self) -> Any:
        opt_g = self.optimizer_factory(params=self.generator_parameters())
        optimizers = [opt_g]
        if self.discriminator is not None:
            optimizers.append(
                torch.optim.Adam(
                    self.discriminator.parameters(), lr=self.adv_lr, betas=(0.5, 0.999)
                )
            )
        if self.scheduler_factory is None:
            return optimizers[0] if len(optimizers) == 1 else optimizers
        total = self.trainer.estimated_stepping_batches
        scheduler = self.scheduler_factory(opt_g, total_steps=total)
        schedule = {"scheduler": scheduler, "interval": "step"}
        return optimizers, [schedule]
