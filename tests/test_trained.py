"""What the learned stages share: the training loop and restore-or-train of stored weights."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
from torch import nn

from tests.helpers import write_frames
from vad.data.table import make_table, table_from_sources
from vad.errors import DataError
from vad.preprocessing.trained import (
    LearnedNetwork,
    load_weights,
    train_network,
    weights_hash,
)

TARGET = torch.tensor([[2.0, -1.0]])


def fit_line(seed: int, steps: int = 60) -> nn.Module:
    """Regress y = x @ TARGET.T from random inputs drawn from the loop's generator."""

    def loss(net: nn.Module, generator: torch.Generator) -> torch.Tensor:
        x = torch.randn(16, 2, generator=generator)
        return nn.functional.mse_loss(net(x), x @ TARGET.T)

    return train_network(
        lambda: nn.Linear(2, 1), partial(torch.optim.Adam, lr=0.1), loss, steps, 0.1, seed
    )


def test_train_network_is_seeded_and_learns() -> None:
    state = torch.random.get_rng_state()
    net = fit_line(0)
    assert torch.equal(torch.random.get_rng_state(), state)  # global random state untouched
    assert not net.training
    assert torch.allclose(net.weight, TARGET, atol=0.25)
    # exact: the same seeded loop run twice in this process on this CPU repeats bitwise
    assert weights_hash(fit_line(0)) == weights_hash(net)
    assert weights_hash(fit_line(1)) != weights_hash(net)


class LineStage(LearnedNetwork):
    kind, label, shape_keys = "line", "line", ("steps",)

    def __init__(self, checkpoint: str | None = None, steps: int = 30, seed: int = 0) -> None:
        self.settings: dict[str, Any] = {"steps": steps, "seed": seed}
        self.trainings = 0
        self.init_network(checkpoint)

    def build_net(self) -> nn.Module:
        return nn.Linear(2, 1)

    def train_net(self, train: pd.DataFrame) -> tuple[nn.Module, dict[str, Any]]:
        self.trainings += 1
        return fit_line(self.settings["seed"], self.settings["steps"]), {"videos": len(train)}


@pytest.fixture
def train(tmp_path: Path) -> pd.DataFrame:
    folder = write_frames(tmp_path / "data" / "01", range(3))[0].parent
    return make_table(table_from_sources("train", [folder]), "test")


def test_learned_network_trains_once_then_restores(train: pd.DataFrame, tmp_path: Path) -> None:
    first = LineStage()
    first.fit_network(train, tmp_path / "cache")
    first.fit_network(train, tmp_path / "cache")  # same videos and settings: nothing to do
    assert first.trainings == 1 and first.metrics == {"videos": 1}
    stored = first.weights_file
    assert stored is not None and stored.parent == tmp_path / "cache" / "stages"
    assert load_weights(stored, "line")["config"] == first.settings
    again = LineStage()
    again.fit_network(train, tmp_path / "cache")
    assert again.trainings == 0 and again.metrics == first.metrics
    assert again.weights_identity() == first.weights_identity()  # exact: restored from file
    other = LineStage(seed=1)
    other.fit_network(train, tmp_path / "cache")
    assert other.trainings == 1 and other.weights_file != stored
    from_file = LineStage(checkpoint=str(stored), steps=5)
    from_file.fit_network(train.iloc[:0], tmp_path / "elsewhere")
    assert from_file.trainings == 0 and from_file.settings["steps"] == 30  # shape from the file
    assert from_file.weights_identity() == first.weights_identity()  # exact: read from file


def test_learned_network_errors(train: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="training videos"):
        LineStage().fit_network(train.iloc[:0], tmp_path)
    with pytest.raises(RuntimeError, match="fitted"):
        LineStage().require_net()
