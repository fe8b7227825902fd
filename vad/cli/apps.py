"""The Hydra apps behind ``train.py`` / ``predict.py`` / ``ensemble.py`` / ``export.py`` and the
console scripts ``vad-train`` / ``vad-predict`` / ``vad-ensemble`` / ``vad-export``.

Each composes ``conf/<task>.yaml`` from the one config folder (``vad.utils.configs``); run
folders land under the working directory (``outputs/<task>/...``; ``paths.root_dir``). Tasks are
imported when the app runs, so that ``vad-predict ckpt_path=<model.onnx>`` never loads Lightning.
"""

from __future__ import annotations

from collections.abc import Callable

import hydra
from omegaconf import DictConfig

from vad.cli.error_messages import user_errors
from vad.cli.extras import exit_if_an_extra_is_missing
from vad.utils.configs import config_dir
from vad.utils.signals import terminate_like_interrupt

CONFIG_PATH = str(config_dir())


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="train")
def train_app(cfg: DictConfig) -> float | None:
    from vad.tasks.train import train

    with user_errors():
        return train(cfg)


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="predict")
def predict_app(cfg: DictConfig) -> float | None:
    from vad.tasks.deployed import predict_any

    with user_errors():
        return predict_any(cfg)


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="ensemble")
def ensemble_app(cfg: DictConfig) -> float | None:
    from vad.tasks.ensemble import ensemble

    with user_errors():
        return ensemble(cfg)


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="export")
def export_app(cfg: DictConfig) -> None:
    from vad.tasks.export import export

    with user_errors():
        export(cfg)


def launch(app: Callable[[], object]) -> None:
    """Run a Hydra app as the entry scripts do: a missing extra is one line, SIGTERM is Ctrl-C."""
    exit_if_an_extra_is_missing()
    terminate_like_interrupt()
    app()


def train() -> None:
    """``vad-train``."""
    launch(train_app)


def predict() -> None:
    """``vad-predict``."""
    launch(predict_app)


def ensemble() -> None:
    """``vad-ensemble``."""
    launch(ensemble_app)


def export() -> None:
    """``vad-export``."""
    launch(export_app)
