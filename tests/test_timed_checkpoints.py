"""Checkpoints at marks of training-batch time (vad.callbacks.TimedCheckpoints)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vad.callbacks import TimedCheckpoints
from vad.callbacks import timed_checkpoints as module


class FakeTrainer:
    is_global_zero = True

    def __init__(self) -> None:
        self.global_step, self.should_stop, self.saved = 0, False, []

    def save_checkpoint(self, path: Path, weights_only: bool = False) -> None:
        self.saved.append((Path(path).name, self.global_step))


def test_saves_once_at_each_mark_and_stops_after_the_last(tmp_path, monkeypatch) -> None:
    clock = iter(float(t) for t in range(0, 10_000, 10))  # each batch takes 10 s
    monkeypatch.setattr(module.time, "perf_counter", lambda: next(clock))
    callback, trainer = TimedCheckpoints(str(tmp_path), minutes=[1, 0.5]), FakeTrainer()
    for _ in range(8):
        callback.on_train_batch_start(trainer, None, None, 0)
        trainer.global_step += 1
        callback.on_train_batch_end(trainer, None, None, [0] * 4, 0)
        if trainer.should_stop:
            break
    # 3 batches reach 30 s (the 0.5 minute mark), 6 batches 60 s; nothing twice
    assert trainer.saved == [("at_0.5min.ckpt", 3), ("at_1min.ckpt", 6)]
    assert trainer.should_stop and trainer.global_step == 6
    marks = json.loads((tmp_path / "timed_checkpoints.json").read_text())["marks"]
    assert [(m["minutes"], m["step"], m["samples"]) for m in marks] == [(0.5, 3, 12), (1.0, 6, 24)]


def test_marks_must_be_positive() -> None:
    with pytest.raises(ValueError, match="minutes"):
        TimedCheckpoints("x", minutes=[0, 1])
