"""Instantiate the callback, logger and preprocessing dicts of a run config."""

from __future__ import annotations

import logging
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from omegaconf import DictConfig, open_dict

from vad.data.video_data import NATIVE
from vad.errors import VADError

log = logging.getLogger(__name__)


def instantiate_dict(config: DictConfig | None, kind: str) -> list[Any]:
    """Instantiate every ``_target_`` entry of a name -> config dict, in order; others skipped."""
    objects = []
    for name, entry in (config or {}).items():
        if isinstance(entry, DictConfig) and "_target_" in entry:
            log.debug("instantiating %s %s <%s>", kind, name, entry._target_)
            objects.append(build(entry))
    return objects


#: the DataModule of the shipped data configs -> the same dataset without Lightning
PLAIN_DATA = {"vad.data.datamodule.VideoDataModule": "vad.data.video_data.VideoData"}


def instantiate_datamodule(
    data: DictConfig, preprocess: DictConfig | None = None, trainer: bool = True
) -> Any:
    """The DataModule of a data config, with the preprocessing stages of ``preprocess``;
    ``image_size: native`` in ``data`` becomes the size the DataModule read from the videos.
    ``trainer=False``: the plain dataset (``VideoData``), for scoring without a Trainer."""
    stages = instantiate_dict(preprocess, "preprocessing stage")
    built = data
    if not trainer and data.get("_target_") in PLAIN_DATA:
        built = data.copy()
        with open_dict(built):
            built._target_ = PLAIN_DATA[data._target_]
    datamodule = build(built, stages=stages, _recursive_=True)
    if data.get("image_size") == NATIVE:  # the size read from the data, for the model and the run
        with open_dict(data):
            data.image_size = list(datamodule.image_size)
    return datamodule


def build(config: Any, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate``, except that a bad-input error raised by the target (a
    ``VADError`` naming the key and value) reaches the user as itself, not wrapped."""
    try:
        return hydra.utils.instantiate(config, **kwargs)
    except InstantiationException as exc:
        cause = exc.__cause__
        while cause is not None and not isinstance(cause, VADError):
            cause = cause.__cause__
        if cause is not None:
            raise cause from None
        raise


def command_line_keys() -> list[str]:
    """The keys of this run's command-line overrides (none outside a Hydra run)."""
    if not HydraConfig.initialized():
        return []
    overrides = HydraConfig.get().overrides.task
    return [str(o).split("=", 1)[0].lstrip("+~") for o in overrides]
