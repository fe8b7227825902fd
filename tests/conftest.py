"""Shared fixtures: composed configs on tmp dirs (compose API) and a tiny synthetic dataset."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hydra import compose, initialize
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from tests.helpers import PED2

os.environ.setdefault("WANDB_MODE", "disabled")

# A tiny synthetic dataset and model: every end-to-end test trains in seconds.
TINY_DATA = [
    "data=synthetic",
    "data.image_size=[32,32]",
    "data.layout.n_train=3",
    "data.layout.n_test=4",
    "data.layout.n_frames=24",
    "data.layout.width=64",
    "data.layout.height=48",
    "data.val_videos=1",
]
TINY = [
    "data.batch_size=4",
    "data.cache_workers=1",
    "model.base_width=4",
    "model.depth=2",
    "model.scheduler.warmup_steps=2",
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "callbacks.rich_progress_bar=null",
    "logger=csv",
]


def compose_config(name: str, overrides: list[str], tmp: Path, shared: Path) -> DictConfig:
    """Compose ``conf/<name>.yaml`` with outputs in ``tmp`` and data/cache in ``shared``."""
    GlobalHydra.instance().clear()
    with initialize(version_base="1.3", config_path="../conf"):
        cfg = compose(config_name=name, return_hydra_config=True, overrides=overrides)
    with open_dict(cfg):
        cfg.paths.root_dir = str(tmp)
        cfg.paths.data_dir = str(shared / "data")
        cfg.paths.cache_dir = str(shared / "cache")
        cfg.paths.log_dir = str(tmp / "outputs")
        cfg.paths.output_dir = str(tmp / "run")
        cfg.hydra.runtime.output_dir = str(tmp / "run")
        cfg.hydra.job.num = 0
    HydraConfig().set_config(cfg)
    return cfg


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data and frame cache shared by the tests of a session (built once)."""
    return tmp_path_factory.mktemp("shared")


@pytest.fixture
def make_cfg(tmp_path: Path, shared_dir: Path):
    """``make_cfg("train", [...overrides])``: a composed config writing into ``tmp_path``."""

    def _make(name: str, overrides: list[str] | None = None, tiny: bool = True) -> DictConfig:
        overrides = list(overrides or [])
        base = []
        if tiny and name == "train":
            own_data = any(o.startswith("data=") for o in overrides)
            base = TINY if own_data else [*TINY_DATA, *TINY]
            overrides = (
                [o for o in overrides if o.startswith("data=")]
                + base
                + [o for o in overrides if not o.startswith("data=")]
            )
        return compose_config(name, overrides, tmp_path, shared_dir)

    yield _make
    GlobalHydra.instance().clear()


@pytest.fixture(scope="session")
def ped2_root() -> Path:
    if not (PED2 / "ped2.mat").is_file():
        pytest.skip(f"UCSD Ped2 not found at {PED2} (see ../shared/data/README.md)")
    return PED2
