"""A training process killed with SIGKILL, or stopped with SIGTERM (as SLURM and containers stop
jobs), resumes from ``last.ckpt`` to the same final epoch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback
from omegaconf import open_dict

from tests.conftest import TINY, TINY_DATA
from tests.helpers import ROOT
from vad.tasks.train import train

EPOCHS, BATCHES, KILL_AT = 4, 2, 5  # killed during epoch 2, after last.ckpt of epoch 1


class PauseAtStep(Callback):
    """Writes ``marker`` and waits once training reaches ``step`` (for the test to kill it)."""

    def __init__(self, step: int, marker: str) -> None:
        self.step, self.marker = step, Path(marker)

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        if trainer.global_step >= self.step:
            self.marker.write_text(str(trainer.global_step))
            time.sleep(600)


def _overrides(epochs: int) -> list[str]:
    return [
        *TINY_DATA,
        *TINY,
        "test=false",
        f"trainer.max_epochs={epochs}",
        f"trainer.limit_train_batches={BATCHES}",
        "callbacks.sample_predictions=null",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_stopped_training_resumes_to_the_same_final_epoch(
    stop: signal.Signals, make_cfg, tmp_path: Path, shared_dir: Path
) -> None:
    killed, marker = tmp_path / "killed", tmp_path / "paused"
    command = [
        sys.executable,
        "train.py",
        *_overrides(EPOCHS),
        f"hydra.run.dir={killed}",
        f"paths.root_dir={tmp_path}",
        f"paths.data_dir={shared_dir / 'data'}",
        f"paths.cache_dir={shared_dir / 'cache'}",
        f"+callbacks.pause._target_={__name__}.PauseAtStep",
        f"+callbacks.pause.step={KILL_AT}",
        f"+callbacks.pause.marker={marker}",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled"}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert process.poll() is None, process.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "training never reached the kill step"
            time.sleep(0.1)
        os.kill(process.pid, stop)
        code = process.wait(timeout=120)
        stderr = process.stderr.read().decode()
        if stop == signal.SIGKILL:
            assert code == -signal.SIGKILL
        else:  # unwound like Ctrl-C: a non-zero exit, no traceback, no temporary file
            assert code not in (0, -signal.SIGTERM), stderr[-3000:]
            assert "Traceback" not in stderr, stderr[-3000:]
            assert not [
                p for p in killed.rglob("*") if ".tmp" in p.name or p.name.endswith(".part.csv")
            ]
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()

    last = killed / "checkpoints" / "last.ckpt"
    saved = torch.load(last, weights_only=False)
    assert (saved["epoch"], saved["global_step"]) == (1, 2 * BATCHES)
    assert not (killed / "train_metrics.json").exists()

    resumed = make_cfg("train", [*_overrides(EPOCHS), f"ckpt_path={last}"], tiny=False)
    with open_dict(resumed):
        resumed.paths.output_dir = str(tmp_path / "resumed")
    train(resumed)
    final = torch.load(tmp_path / "resumed" / "checkpoints" / "last.ckpt", weights_only=False)
    assert (final["epoch"], final["global_step"]) == (EPOCHS - 1, EPOCHS * BATCHES)
    metrics = json.loads((tmp_path / "resumed" / "train_metrics.json").read_text())
    assert metrics["epochs"] == EPOCHS
    batch_size = 4  # TINY
    assert metrics["train_samples"] == (EPOCHS - 2) * BATCHES * batch_size  # only epochs 2 and 3
