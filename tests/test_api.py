"""The Python API: train -> predict -> ensemble, twice in one process, without a chdir."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
import torch

import vad
from tests.conftest import TINY, TINY_DATA
from vad.tasks.api import to_overrides


def test_settings_become_the_command_lines_overrides() -> None:
    settings = {
        "model": "unet",
        "trainer": {"max_epochs": 2, "enable_progress_bar": False},
        "data": {"image_size": [32, 48], "root": "/data/my videos/vidéo,1"},
        "ckpt_path": None,
    }
    assert to_overrides(settings) == [
        "model=unet",
        "trainer.max_epochs=2",
        "trainer.enable_progress_bar=false",
        "data.image_size=[32,48]",
        "data.root='/data/my videos/vidéo,1'",
        "ckpt_path=null",
    ]


#: Repeatability is only promised with deterministic algorithms (and the config's fixed seed) on
#: one machine: both tasks run with them here.
DETERMINISTIC = ["trainer.deterministic=true"]


@pytest.fixture
def restore_determinism():
    """Lightning switches torch's process-wide deterministic mode; later tests get it back."""
    flags = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    benchmark = torch.backends.cudnn.benchmark
    cublas = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    yield
    torch.use_deterministic_algorithms(flags, warn_only=warn_only)
    torch.backends.cudnn.benchmark = benchmark
    if cublas is None:
        os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    else:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = cublas


@pytest.mark.slow
@pytest.mark.usefixtures("restore_determinism")
def test_train_predict_and_ensemble_twice_in_one_process(tmp_path: Path, shared_dir: Path) -> None:
    cwd = os.getcwd()
    paths = {
        "root_dir": str(tmp_path),
        "data_dir": str(shared_dir / "data"),
        "cache_dir": str(shared_dir / "cache"),
    }
    runs = []
    for _ in range(2):
        trained = vad.train([*TINY_DATA, *TINY, *DETERMINISTIC], paths=paths, test=False)
        scored = vad.predict(DETERMINISTIC, ckpt_path=str(trained.run_dir), paths=paths)
        fused = vad.ensemble(
            [f"+members.unet.scores={scored.run_dir}", "tune_videos=all"], paths=paths
        )
        runs.append((trained, scored, fused))
        assert trained.run_dir.parent == tmp_path / "outputs" / "train"
        assert (trained.run_dir / "checkpoints" / "best.ckpt").is_file()
        assert trained.metrics["epochs"] == 1 and trained.scores is None
        assert isinstance(scored.scores, pd.DataFrame)
        assert {"video", "frame", "psnr", "label"} <= set(scored.scores.columns)
        assert 0 <= scored.metrics["micro_auc"] <= 1 and scored.value == scored.metrics["micro_auc"]
        assert isinstance(fused.scores, pd.DataFrame) and len(fused.scores) == len(scored.scores)
        assert (fused.run_dir / "ensemble.log").is_file()
    assert os.getcwd() == cwd
    first, second = runs
    assert len({r.run_dir for pair in runs for r in pair}) == 6  # a folder per call
    # exact: same seed, trainer.deterministic=true and the same machine make both trainings and
    # scorings bitwise repeatable (without that setting only approximate equality is promised)
    assert second[1].metrics["micro_auc"] == first[1].metrics["micro_auc"]
    assert torch.are_deterministic_algorithms_enabled()  # the setting did reach torch
