"""A tiny trained U-Net run shared by the tests of a session.

Use it with ``from tests.trained_runs import unet_run_fixture  # noqa: F401`` and a ``unet_run``
argument.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TINY, TINY_DATA, compose_config
from vad.tasks.train import train


def train_tiny(root: Path, shared: Path, extra: list[str] = ()) -> Path:
    """Train the tiny config (``TINY``, U-Net options dropped for another ``model=``) and return
    the run folder (checkpoints, ``scores.csv`` of the test videos)."""
    other_model = any(o.startswith("model=") for o in extra)
    base = [
        o for o in TINY if not (other_model and o.startswith(("model.base_width", "model.depth")))
    ]
    cfg = compose_config(
        "train", [*TINY_DATA, *base, "scoring.report.enabled=false", *extra], root, shared
    )
    train(cfg)
    return Path(cfg.paths.output_dir)


@pytest.fixture(name="unet_run", scope="session")
def unet_run_fixture(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Path:
    """A trained tiny U-Net run; tests must not change its files."""
    return train_tiny(tmp_path_factory.mktemp("unet"), shared_dir)
