"""Budgets in steps: the banner says steps and samples, and the last step of a budget is always
validated (best checkpoint, validation statistics), however long the footage's epochs are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from vad.tasks.train import train, validated_last_step


@pytest.mark.parametrize(
    ("steps", "every", "expected"),
    [(6850, 274, 274), (30, 274, 30), (1000, 274, 250), (7, 3, 1), (-1, 274, 274)],
)
def test_the_interval_divides_the_budget(steps: int, every: int, expected: int) -> None:
    cfg = OmegaConf.create(
        {"max_steps": steps, "val_check_interval": every, "check_val_every_n_epoch": None}
    )
    assert validated_last_step(cfg).val_check_interval == expected
    assert cfg.val_check_interval == every  # the given config is not changed


def test_epoch_validation_is_left_alone() -> None:
    cfg = OmegaConf.create({"max_steps": 30, "val_check_interval": None})
    assert validated_last_step(cfg) is cfg


def test_a_budget_shorter_than_an_epoch_is_validated(make_cfg, capsys) -> None:
    """Validation every 6 steps would never run in a 4-step budget (nor once an epoch: the
    epoch is ~10 steps); every 4 validates the last step."""
    overrides = [
        "trainer.max_epochs=-1",
        "trainer.max_steps=4",
        "trainer.limit_train_batches=null",
        "trainer.check_val_every_n_epoch=null",
        "trainer.val_check_interval=6",
        "test=false",
    ]
    cfg = make_cfg("train", overrides)
    train(cfg)
    run = Path(cfg.paths.output_dir)
    assert "validating every 4 steps" in capsys.readouterr().out
    assert (run / "checkpoints" / "best.ckpt").is_file()
    assert json.loads((run / "score_stats.json").read_text())["frames"] > 0
    assert "4 steps of 4 clips (16 samples)" in (run / "train.log").read_text()
