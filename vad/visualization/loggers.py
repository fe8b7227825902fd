"""Send report figures to experiment loggers (W&B, TensorBoard) without importing them here."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import cv2

log = logging.getLogger(__name__)


def log_figures(
    loggers: Iterable[Any], figures: Mapping[str, str | Path], step: int | None = None
) -> int:
    """Log each PNG under its key to every logger that can take images; returns how many calls
    succeeded.

    Lightning's ``WandbLogger`` (any logger with ``log_image(key, images, step)``) gets the file
    paths; a TensorBoard logger (``experiment.add_image``) gets the decoded RGB arrays; other
    loggers (CSV) are skipped.
    """
    figures = {k: Path(v) for k, v in figures.items() if v is not None}
    logged = 0
    for logger in loggers or ():
        for key, path in figures.items():
            try:
                logged += _log_one(logger, key, path, step)
            except Exception as exc:  # a logger failure must not lose the run's results
                log.warning("could not log %s to %s: %s", path, type(logger).__name__, exc)
    return logged


def _log_one(logger: Any, key: str, path: Path, step: int | None) -> int:
    if callable(getattr(logger, "log_image", None)):
        logger.log_image(key=key, images=[str(path)], step=step)
        return 1
    experiment = getattr(logger, "experiment", None)
    if callable(getattr(experiment, "add_image", None)):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"{path}: cannot read image")
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        experiment.add_image(key, rgb, global_step=step or 0, dataformats="HWC")
        return 1
    return 0
