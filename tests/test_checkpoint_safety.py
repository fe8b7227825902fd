"""Shared checkpoints cannot run code: they are read with ``weights_only`` and only vad models
(and torch optimisers) are instantiated from their stored config."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import torch

from tests.trained_runs import unet_run_fixture  # noqa: F401
from vad.errors import CheckpointError
from vad.models.checkpoint import META_KEY, load_model

MARKER = "vad-checkpoint-ran-code"


class RunsCode:
    """Unpickling this calls ``os.system``: what a crafted checkpoint would do."""

    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "crafted.ckpt"
    torch.save({META_KEY: {"model": {}}, "state_dict": {}, "payload": RunsCode()}, path)
    with pytest.raises(CheckpointError, match=r"crafted\.ckpt: refused: .*could run code"):
        load_model(path)
    assert not (tmp_path / MARKER).exists()


@pytest.mark.parametrize(
    ("key", "target"),
    [("_target_", "os.system"), ("optimizer._target_", "subprocess.run")],
)
def test_a_foreign_target_in_the_stored_config_is_refused(
    unet_run: Path, tmp_path: Path, key: str, target: str
) -> None:
    checkpoint = torch.load(unet_run / "checkpoints" / "best.ckpt", weights_only=True)
    node = checkpoint[META_KEY]["model"]
    *parents, last = key.split(".")
    for name in parents:
        node = node[name]
    node[last] = target
    path = tmp_path / "foreign.ckpt"
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match=re.escape(f"model.{key}='{target}'")):
        load_model(path)


def test_todays_checkpoints_load(unet_run: Path) -> None:
    model, meta = load_model(unet_run)
    assert meta["model"]["_target_"].startswith("vad.models.") and not model.training
