"""Checkpoints that know what they hold: the model and data configs travel inside them.

``load_model`` rebuilds the module from the stored config, so ``predict.py ckpt_path=...`` needs no
model config, and a checkpoint used with the wrong model or input size fails with a clear error.
Everything a model fitted on its held-out validation videos is in its state dict under ``fitted.``
(``vad.models.fitted``); ``store_score_stats`` writes the score statistics there and
``read_score_stats`` reads them back from a checkpoint, a run folder or a ``score_stats.json``.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from omegaconf import DictConfig, OmegaConf

from vad.errors import CheckpointError
from vad.io.atomic import atomic_path
from vad.models.base import VADModule

META_KEY = "vad"
#: where the score statistics live in a checkpoint's state dict (``FittedStatistics``)
STATS_STATE_KEY = "fitted._extra_state"


class CheckpointMetadata(Callback):
    """Stores the resolved model, data and scoring configs in every checkpoint the trainer
    saves (``predict.py`` scores as the run did unless told otherwise)."""

    def __init__(
        self, model: DictConfig, data: DictConfig, scoring: DictConfig | None = None
    ) -> None:
        self.meta = {
            "model": OmegaConf.to_container(model, resolve=True),
            "data": OmegaConf.to_container(data, resolve=True),
        }
        if scoring is not None:
            self.meta["scoring"] = OmegaConf.to_container(scoring, resolve=True)

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint[META_KEY] = self.meta


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint file, or a training run folder (its ``checkpoints/best.ckpt``, else last)."""
    path = Path(path).expanduser()
    if path.is_dir():
        for name in ("checkpoints/best.ckpt", "checkpoints/last.ckpt", "best.ckpt", "last.ckpt"):
            if (path / name).is_file():
                return path / name
        raise CheckpointError(f"{path}: folder has no checkpoints/best.ckpt or last.ckpt")
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    return path


#: where the ``_target_`` of a stored model config may point: vad's models (and their schedules),
#: torch's optimisers and schedulers; anything else in a shared checkpoint could run code
ALLOWED_TARGETS = ("vad.models.", "torch.optim.")


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint's contents, read without running code (``weights_only``: tensors and plain
    Python data only)."""
    path = resolve_checkpoint(path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"{path}: refused: the file holds objects beyond tensors and plain data, whose "
            f"loading could run code ({str(exc).splitlines()[0][:160]})"
        ) from exc
    except Exception as exc:
        raise CheckpointError(f"{path}: cannot read checkpoint ({exc})") from exc
    if not isinstance(checkpoint, dict) or META_KEY not in checkpoint:
        raise CheckpointError(f"{path}: not a vad training checkpoint (no model config inside)")
    return checkpoint


def load_model(path: str | Path) -> tuple[VADModule, dict[str, Any]]:
    """The trained module (eval mode, on CPU) and the checkpoint's stored configs (with the
    training step of its weights, ``global_step``)."""
    checkpoint = read_checkpoint(path)
    meta = {**checkpoint[META_KEY], "global_step": checkpoint.get("global_step")}
    check_targets(meta["model"], f"{resolve_checkpoint(path)}: model config")
    model = hydra.utils.instantiate(meta["model"])
    if not isinstance(model, VADModule):
        raise CheckpointError(f"{resolve_checkpoint(path)}: {type(model).__name__} is no vad model")
    state = dict(checkpoint["state_dict"])
    # checkpoints written before the fitted-statistics store kept them in the metadata
    state.setdefault(STATS_STATE_KEY, {"score_stats": meta.get("score_stats")})
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        target, reason = meta["model"].get("_target_"), str(exc).splitlines()[0]
        raise CheckpointError(
            f"{resolve_checkpoint(path)}: weights do not fit {target} ({reason})"
        ) from exc
    return model.eval(), meta


def check_targets(config: Any, where: str, key: str = "model") -> None:
    """A CheckpointError naming the key when a ``_target_`` anywhere in ``config`` points
    outside ``ALLOWED_TARGETS``."""
    if isinstance(config, dict):
        target = config.get("_target_")
        if target is not None and not str(target).startswith(ALLOWED_TARGETS):
            raise CheckpointError(
                f"{where}: {key}._target_={target!r} is not a vad model, schedule or torch "
                f"optimiser; refusing to instantiate it"
            )
        for name, value in config.items():
            check_targets(value, where, f"{key}.{name}")
    elif isinstance(config, list):
        for i, value in enumerate(config):
            check_targets(value, where, f"{key}[{i}]")


def store_score_stats(path: str | Path, stats: dict[str, Any]) -> Path:
    """Write score statistics into a checkpoint's fitted statistics (atomic rewrite)."""
    path = resolve_checkpoint(path)
    checkpoint = read_checkpoint(path)
    state = checkpoint["state_dict"]
    state[STATS_STATE_KEY] = {**(state.get(STATS_STATE_KEY) or {}), "score_stats": stats}
    return _rewrite(path, checkpoint)


def store_fitted(path: str | Path, model: VADModule) -> Path:
    """Write everything ``model`` fitted (moments, their step, score statistics) into a
    checkpoint (atomic rewrite); the weights stay as they are."""
    path = resolve_checkpoint(path)
    checkpoint = read_checkpoint(path)
    fitted = {k: v for k, v in model.state_dict().items() if k.startswith("fitted.")}
    checkpoint["state_dict"].update(fitted)
    return _rewrite(path, checkpoint)


def _rewrite(path: Path, checkpoint: dict[str, Any]) -> Path:
    mode = path.stat().st_mode & 0o777
    with atomic_path(path) as tmp:
        torch.save(checkpoint, tmp)
        tmp.chmod(mode)  # keep the file's permissions
    return path


def read_score_stats(path: str | Path) -> dict[str, Any] | None:
    """The score statistics of a ``score_stats.json``, a checkpoint or a training run folder
    (None when the checkpoint has none)."""
    path = Path(path).expanduser()
    if path.suffix == ".json":
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{path}: cannot read score statistics ({exc})") from exc
    state = read_checkpoint(path).get("state_dict", {}).get(STATS_STATE_KEY) or {}
    return state.get("score_stats")
