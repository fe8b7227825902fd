"""Stopping on the label-free score: 'callbacks=[default,early_stopping]' stops a run whose
val/pseudo_auc does not improve and keeps the checkpoint that scored best on it."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from vad.tasks.train import train


def test_training_stops_when_the_label_free_score_stops_improving(make_cfg) -> None:
    overrides = [
        "callbacks=[default,early_stopping]",
        "callbacks.early_stopping.patience=1",
        "callbacks.early_stopping.min_delta=1.0",  # no rise is enough: stop after 2 checks
        "trainer.max_epochs=-1",
        "trainer.min_epochs=null",  # as the presets: a stop may come within an epoch
        "trainer.max_steps=40",
        "trainer.limit_train_batches=null",
        "trainer.check_val_every_n_epoch=null",
        "trainer.val_check_interval=2",
        "test=false",
    ]
    cfg = make_cfg("train", overrides)
    train(cfg)
    run = Path(cfg.paths.output_dir)
    best = torch.load(run / "checkpoints" / "best.ckpt", weights_only=False, map_location="cpu")
    steps = json.loads((run / "train_metrics.json").read_text())["steps"]
    assert steps == 4  # validated at steps 2 and 4, stopped: not 40 steps
    callbacks = {k: v for k, v in best["callbacks"].items() if k.startswith("ModelCheckpoint")}
    [state] = callbacks.values()
    assert state["monitor"] == "val/pseudo_auc"
