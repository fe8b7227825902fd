"""Callbacks that act every N validations count validations across epochs (a step budget
validates every N steps, several times an epoch on long footage), and a resumed run keeps
their count."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from lightning.pytorch.callbacks import EarlyStopping

from vad.callbacks import LabelFreeValidation, SamplePredictions
from vad.callbacks.label_free_validation import MonitorError, check_monitors
from vad.tasks.train import train


def test_label_free_score_and_samples_every_second_validation(make_cfg) -> None:
    overrides = [
        "trainer.max_epochs=-1",
        "trainer.min_epochs=null",
        "trainer.max_steps=8",
        "trainer.limit_train_batches=null",
        "trainer.check_val_every_n_epoch=null",
        "trainer.val_check_interval=2",  # validations at steps 2, 4, 6, 8
        "callbacks.label_free_validation.every_n_validations=2",
        "callbacks.sample_predictions.every_n_validations=2",
        "logger=csv",
        "test=false",
    ]
    cfg = make_cfg("train", overrides)
    train(cfg)
    run = Path(cfg.paths.output_dir)
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == [
        "step_000004.png",
        "step_000008.png",
    ]
    metrics = pd.read_csv(run / "csv" / "metrics.csv")
    assert metrics["val/loss"].notna().sum() == 4
    scored = metrics.loc[metrics["val/pseudo_auc"].notna(), "step"].tolist()
    assert len(scored) == 2 and scored[0] < scored[1]
    last = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False, map_location="cpu")
    states = {k: v for k, v in last["callbacks"].items() if "LabelFreeValidation" in k}
    assert [s["validations"] for s in states.values()] == [4]


def test_a_restored_count_keeps_the_schedule() -> None:
    for callback in (LabelFreeValidation(every_n_validations=3), SamplePredictions(3)):
        callback.load_state_dict({"validations": 5})
        assert callback.state_dict() == {"validations": 5}


def test_monitoring_a_score_that_is_not_logged_every_validation_fails_before_training(
    make_cfg,
) -> None:
    overrides = [
        "callbacks=[default,early_stopping]",
        "callbacks.label_free_validation.every_n_validations=2",
    ]
    with pytest.raises(MonitorError, match="every_n_validations=2 logs only"):
        train(make_cfg("train", overrides))
    with pytest.raises(MonitorError, match="label_free_validation is off"):
        check_monitors([EarlyStopping(monitor="val/pseudo_auc")])
    check_monitors([EarlyStopping(monitor="val/loss")])  # no error
