"""``VADModule``: what every anomaly model has; the rest are components a model composes.

A model turns a ``ClipBatch`` into a ``Prediction`` (``forward``), defines its losses and its raw
error columns (``frame_scores``); its ``contract`` says its score column and what it reads. The
one scorer (``vad.scoring.scorer``) turns predictions into rows keyed by video and *original*
frame id; what validation measures lives in ``self.fitted`` (``vad.models.fitted``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import lightning as L
import pandas as pd
import torch

from vad.data.batch import ClipBatch, images_to_float
from vad.errors import DataError
from vad.models.adversarial import adversarial_settings
from vad.models.contract import ModelContract
from vad.models.fitted import FittedStatistics
from vad.models.map_scores import MapScores
from vad.models.object_crops import object_batch, object_settings, objects_as_frames
from vad.models.optimisers import build_optimizers
from vad.models.prediction import Prediction
from vad.models.prediction_errors import frame_errors
from vad.models.skip_frames import pseudo_anomaly_settings
from vad.models.step_logging import log_losses
from vad.models.training_step import train_on
from vad.utils.sizes import image_hw

__all__ = ["Prediction", "VADModule"]


class VADModule(L.LightningModule, ABC):
    """Base of every anomaly model.

    Args:
        image_size, channels: (height, width) and channels (1 grey, 3 RGB) of the cached frames.
        optimizer / scheduler: Hydra partials (``vad.models.optimisers``).
        adversarial: FFP's PatchGAN term (``vad.models.adversarial``); weight 0 = off.
        patch_size: k of the ``patch_max`` error (max over k x k average-pooled patches).
        pseudo_anomaly: skip-frame pseudo-anomalies (``vad.models.skip_frames``).
        regions: score the error inside the motion boxes (``vad.models.region_scores``).
        objects: train and score on object crops (``vad.models.object_crops``).
    """

    #: the model's score column, data needs and kind of fit (``vad.models.contract``)
    contract: ClassVar[ModelContract] = ModelContract()
    #: layout of the weights (and so of the activations) from ``setup`` on: channels-last makes a
    #: 2-D model's training step 1.2-1.5x faster on CPU, fp32 and bf16 (bench/train_profile.py)
    memory_format: ClassVar[torch.memory_format] = torch.channels_last

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
        self.image_size, self.channels = image_hw(image_size), int(channels)
        if self.channels not in (1, 3):
            raise DataError(f"data.channels={channels!r} is invalid: 1 (grey) or 3 (RGB)")
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.patch_size = int(patch_size)
        adversarial_parts = adversarial_settings(adversarial, self.channels)
        self.adv_weight, self.adv_lr, self.discriminator = adversarial_parts
        self.automatic_optimization = self.discriminator is None
        self.pseudo_anomaly = pseudo_anomaly_settings(pseudo_anomaly)
        self.fitted = FittedStatistics()  # what validation measures; models declare more
        self.map_scoring = MapScores(self.fitted, self.image_size, self.patch_size, regions)
        self.objects = object_settings(objects)  # None: whole frames
        #: arrays its clips carry: the contract's, plus boxes for regions and object crops
        self.modalities = self.contract.modalities_with(boxes=bool(regions or self.objects))

    @property
    @abstractmethod
    def clip_length(self) -> int:
        """Frames per clip (inputs and targets together)."""

    @abstractmethod
    def forward(self, batch: ClipBatch) -> Prediction:
        """Run the model on a float batch (see ``on_after_batch_transfer``)."""

    @abstractmethod
    def losses(self, batch: ClipBatch, out: Prediction) -> dict[str, torch.Tensor]:
        """Training losses; ``"loss"`` is the total that is minimised."""

    def frame_scores(self, out: Prediction) -> dict[str, torch.Tensor]:
        """Raw error columns, one (B * P,) tensor each, ordered as ``out.frame_ids.flatten()``."""
        errors = frame_errors(out.pred, out.target, self.patch_size)
        return {**errors, **self.map_scoring.columns(out)}

    def pixel_maps(self, out: Prediction) -> dict[str, torch.Tensor]:
        """Per-pixel maps (B, P, H, W): ``error`` (squared error or the model's own), ``region``."""
        return {"error": out.error_maps(), **self.map_scoring.maps(out)}

    def finalize_scores(self, scores: pd.DataFrame) -> pd.DataFrame:
        """Columns derived from the whole one-row-per-frame table (default: unchanged)."""
        return scores

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> ClipBatch:
        """Images to float in [-1, 1] (``vad.data.batch``), then object crops if any."""
        batch = images_to_float(ClipBatch.of(batch))
        if self.objects:
            batch = object_batch(batch, **self.objects, training=self.training)
        return batch

    def predict_clips(self, batch: ClipBatch) -> Prediction:
        """``forward`` on a float batch, with the video and original id of every output frame."""
        out = self(batch)
        out.video = list(batch.video)
        out.frame_ids = batch.frame_ids[:, list(out.positions)]
        if batch.boxes is not None:
            out.extra["boxes"] = batch.boxes[:, list(out.positions)]
        if self.objects:
            objects_as_frames(batch, out, *self.image_size)
        return out

    def setup(self, stage: str) -> None:
        self.to(memory_format=self.memory_format)

    def training_step(self, batch: ClipBatch, batch_idx: int) -> torch.Tensor | None:
        return train_on(self, batch)  # with the model's components (``training_step``)

    def validation_step(self, batch: ClipBatch, batch_idx: int) -> None:
        out = self.predict_clips(batch)
        losses = self.losses(batch, out)
        log_losses(self, "val", {**losses, "psnr": self.frame_scores(out)["psnr"].mean()})
        self.map_scoring.update(out)

    def predict_step(self, batch: ClipBatch, batch_idx: int, dataloader_idx: int = 0) -> Prediction:
        return self.predict_clips(batch)

    def on_validation_epoch_start(self) -> None:
        self.fitted.reset()

    def on_validation_epoch_end(self) -> None:
        self.finish_fitted()

    def finish_fitted(self) -> None:
        """Store this epoch's fitted moments (summed over ranks; not in a sanity check); once."""
        if not self.trainer.sanity_checking:
            reduce = lambda t: self.trainer.strategy.reduce(t, reduce_op="sum")  # noqa: E731
            self.fitted.finish(reduce, step=self.trainer.global_step)

    def configure_optimizers(self) -> Any:
        return build_optimizers(self)
