"""Checkpoints at marks of training time, for time-to-accuracy curves (``bench/``) and for a
user choosing a step budget: ``callbacks=[default,timed_checkpoints]``.

When the time spent in training batches (validation excluded) first reaches each of
``minutes``, the trainer saves ``<dirpath>/at_<m>min.ckpt`` through its usual checkpoint hooks
(so the weight EMA's averaged weights are what it holds) and records the step and samples in
``<dirpath>/timed_checkpoints.json``. Training stops after the last mark when ``stop_at_last``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback

from vad.io.atomic import write_json


class TimedCheckpoints(Callback):
    """Save at ``minutes`` of training-batch time (sorted, > 0) into ``dirpath``."""

    def __init__(self, dirpath: str, minutes: Sequence[float], stop_at_last: bool = True) -> None:
        marks = sorted(float(m) for m in minutes)
        if not marks or marks[0] <= 0:
            raise ValueError(f"callbacks.timed_checkpoints.minutes must be > 0, got {minutes}")
        self.dirpath, self.marks, self.stop_at_last = Path(dirpath), marks, bool(stop_at_last)
        self.seconds, self.samples, self.saved = 0.0, 0, []
        self._start: float | None = None

    def on_train_batch_start(self, trainer: L.Trainer, *args: Any) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, *_: Any
    ) -> None:
        if self._start is None:
            return
        self.seconds += time.perf_counter() - self._start
        self.samples += len(batch) if hasattr(batch, "__len__") else 0
        self._start = None
        while (
            len(self.saved) < len(self.marks) and self.seconds >= 60 * self.marks[len(self.saved)]
        ):
            self._save(trainer, self.marks[len(self.saved)])
        if self.stop_at_last and len(self.saved) == len(self.marks):
            trainer.should_stop = True

    def _save(self, trainer: L.Trainer, minutes: float) -> None:
        path = self.dirpath / f"at_{minutes:g}min.ckpt"
        trainer.save_checkpoint(path, weights_only=False)  # callbacks too (the EMA)
        self.saved.append(
            {
                "minutes": minutes,
                "checkpoint": path.name,
                "step": trainer.global_step,
                "samples": self.samples,
                "train_seconds": round(self.seconds, 2),
            }
        )
        if trainer.is_global_zero:
            write_json({"marks": self.saved}, self.dirpath / "timed_checkpoints.json")
