"""What a trained run fixes when its model scores other data: the data settings the model is
bound to, the run's scoring settings, and the input size and channels the data must have. The
same for a checkpoint and an exported model (no Lightning)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from vad.errors import CheckpointError
from vad.tasks.instantiate import command_line_keys

#: data settings a trained model is bound to: taken from its checkpoint unless set on the command
#: line (a data=<layout> choice brings the layout's defaults, which the model may not accept)
MODEL_BOUND = ("image_size", "channels", "resize", "flow", "regions")


def model_bound(data: DictConfig, trained: dict[str, Any]) -> DictConfig:
    """``data`` with the checkpoint's ``MODEL_BOUND`` settings, except those the command line
    sets (``data.<key>=...``)."""
    given = command_line_keys()
    data = data.copy()
    with open_dict(data):
        for key in MODEL_BOUND:
            if key in trained and not any(
                g == f"data.{key}" or g.startswith(f"data.{key}.") for g in given
            ):
                data[key] = trained[key]
    return data


def run_scoring(scoring: DictConfig, trained: dict[str, Any] | None, ckpt: Path) -> DictConfig:
    """The training run's scoring settings (stored in the checkpoint; for older checkpoints, the
    run folder's ``.hydra/config.yaml``), except those the command line sets (``scoring=<name>``
    keeps the named config whole, ``scoring.<key>=...`` that key)."""
    if trained is None:
        saved = ckpt.parent.parent / ".hydra" / "config.yaml"
        trained = OmegaConf.to_container(OmegaConf.load(saved).scoring) if saved.is_file() else None
    given = command_line_keys()
    if trained is None or "scoring" in given:
        return scoring
    scoring = scoring.copy()
    with open_dict(scoring):
        for key, value in trained.items():
            if not any(g == f"scoring.{key}" or g.startswith(f"scoring.{key}.") for g in given):
                scoring[key] = value
    return scoring


def check_compatible(meta: dict[str, Any], data: DictConfig | dict, path: str | Path) -> None:
    """The data a checkpoint is used on must have its input size and channels."""
    trained = meta["data"]
    for key in ("image_size", "channels"):
        want, got = _plain(trained.get(key)), _plain(data.get(key))
        if want != got:
            raise CheckpointError(
                f"{path}: model was trained with {key}={want}, but the data config has {key}={got}"
            )


def _plain(value: Any) -> Any:
    if isinstance(value, DictConfig) or OmegaConf.is_config(value):
        value = OmegaConf.to_container(value, resolve=True)
    return list(value) if isinstance(value, list | tuple) else value
