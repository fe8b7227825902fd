"""A callback that measures training throughput (samples per second of training batches)."""

from __future__ import annotations

import time
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback

from vad.data.batch import ClipBatch


class TrainSpeed(Callback):
    """Counts training samples and the wall time of training batches: epochs without the
    validations inside them."""

    def __init__(self) -> None:
        self.samples, self.seconds, self._start = 0, 0.0, None
        self._resume_after = False

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        self.samples += len(batch) if isinstance(batch, ClipBatch) else 0

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._pause()

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Validation inside an epoch (every N steps, or before the epoch's end hook) is not
        training time: the clock stops until it ends."""
        self._resume_after = self._start is not None
        self._pause()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._resume_after:
            self._start = time.perf_counter()
        self._resume_after = False

    def _pause(self) -> None:
        if self._start is not None:
            self.seconds += time.perf_counter() - self._start
            self._start = None

    @property
    def samples_per_second(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else float("nan")
