"""Checkpoints at marks of training-batch time (vad.callbacks.TimedCheckpoints), and the
validation moments of a checkpoint saved between validations (vad.tasks.fitted_moments)."""

from __future__ import annotations

import json
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import open_dict

from vad.callbacks import TimedCheckpoints
from vad.callbacks import timed_checkpoints as module
from vad.models.checkpoint import load_model
from vad.models.fitted import FittedStatistics
from vad.models.joint import JointModule
from vad.models.joint.combined_score import STAT_COLUMNS, log_errors
from vad.scoring.scorer import Scorer
from vad.tasks.fitted_moments import stale_moments
from vad.tasks.predict import predict
from vad.tasks.train import train


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


def test_moments_of_other_weights_are_stale() -> None:
    model = _joint()
    assert "log_error never measured" in stale_moments(model, 7)
    for name, shape in model.fitted.shapes.items():  # the log errors, the location grid
        model.fitted.update(name, torch.randn(4, *shape))
    model.fitted.finish(step=5)
    assert model.fitted.step == 5
    assert stale_moments(model, 5) is None
    assert "measured at step 5, the weights are of step 7" in stale_moments(model, 7)
    assert stale_moments(model, None) is None  # a checkpoint without its step: trusted
    restored = _joint()
    restored.load_state_dict(model.state_dict())
    assert restored.fitted.step == 5  # the step travels with the moments


@pytest.mark.slow
def test_a_checkpoint_saved_before_validation_scores(make_cfg, tmp_path: Path) -> None:
    """The joint model's first timed checkpoint precedes every validation: predict measures its
    moments on the validation videos, stores them, and scores."""
    marks = tmp_path / "marks"
    cfg = make_cfg(
        "train",
        [
            "model=joint",
            "model.motion_width=2",
            "+callbacks.timed_checkpoints._target_=vad.callbacks.TimedCheckpoints",
            f"+callbacks.timed_checkpoints.dirpath={marks}",
            "+callbacks.timed_checkpoints.minutes=[1e-6]",
            "+callbacks.timed_checkpoints.stop_at_last=false",
            "test=false",
        ],
    )
    train(cfg)
    ckpt = marks / "at_1e-06min.ckpt"
    model, meta = load_model(ckpt)
    assert meta["global_step"] == 1 and not model.fitted.is_fitted("log_error")
    pcfg = make_cfg("predict", [f"ckpt_path={ckpt}"])
    with open_dict(pcfg):
        pcfg.paths.output_dir = str(tmp_path / "predict")
    predict(pcfg)
    scores = pd.read_csv(tmp_path / "predict" / "scores.csv")
    assert np.isfinite(scores["combined"]).all()
    model, meta = load_model(ckpt)
    assert model.fitted.is_fitted("log_error") and model.fitted.step == 1
    # the stored moments are those of the checkpoint's weights on the validation videos
    datamodule = hydra.utils.instantiate(meta["data"])
    datamodule.configure_clips(model.clip_length, model.modalities)
    measured = FittedStatistics({"log_error": (len(STAT_COLUMNS),)})
    scorer = Scorer(model)
    for batch in datamodule.val_dataloader():
        measured.update("log_error", log_errors(model.stream_errors(scorer.run(batch))))
    measured.finish()
    stored = model.fitted.mean("log_error")
    assert torch.allclose(stored, measured.mean("log_error"), rtol=1e-3, atol=1e-4)


def _joint() -> JointModule:
    optimizer = lambda params: torch.optim.Adam(params)  # noqa: E731
    return JointModule((32, 32), 1, optimizer, history=4, base_width=4, motion_width=2, depth=2)
