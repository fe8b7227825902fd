"""Instantiate the callback, logger and preprocessing dicts of a run config."""

from __future__ import annotations

import logging
from typing import Any

import hydra
from omegaconf import DictConfig

log = logging.getLogger(__name__)


def instantiate_dict(config: DictConfig | None, kind: str) -> list[Any]:
    """Instantiate every ``_target_`` entry of a name -> config dict, in order; others skipped."""
    objects = []
    for name, entry in (config or {}).items():
        if isinstance(entry, DictConfig) and "_target_" in entry:
            log.info("instantiating %s %s <%s>", kind, name, entry._target_)
            objects.append(hydra.utils.instantiate(entry))
    return objects


def instantiate_datamodule(data: DictConfig, preprocess: DictConfig | None = None) -> Any:
    """The DataModule of a data config, with the preprocessing stages of ``preprocess``."""
    stages = instantiate_dict(preprocess, "preprocessing stage")
    return hydra.utils.instantiate(data, stages=stages, _recursive_=True)
