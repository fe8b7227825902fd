"""Training time excludes the validations that run inside an epoch (step-scheduled validation)."""

from __future__ import annotations

import torch

from vad.data.batch import ClipBatch
from vad.tasks import speed
from vad.tasks.speed import TrainSpeed


def test_validation_inside_an_epoch_is_not_training_time(monkeypatch) -> None:
    now = [0.0]
    monkeypatch.setattr(speed.time, "perf_counter", lambda: now[0])
    clock = TrainSpeed()
    batch = ClipBatch(
        frames=torch.zeros(4, 2, 8, 8, 1), video=["a"] * 4, frame_ids=torch.zeros(4, 2)
    )
    clock.on_validation_start(None, None)  # the sanity check, before any epoch
    now[0] = 5.0
    clock.on_validation_end(None, None)
    clock.on_train_epoch_start(None, None)
    now[0] = 7.0  # 2 s of training
    clock.on_train_batch_end(None, None, None, batch, 0)
    clock.on_validation_start(None, None)
    now[0] = 17.0  # 10 s of validation
    clock.on_validation_end(None, None)
    now[0] = 18.0  # 1 s more training
    clock.on_train_epoch_end(None, None)
    assert clock.seconds == 3.0  # exact: sums of small integers in binary floating point
    assert clock.samples == 4 and clock.samples_per_second == 4 / 3.0
