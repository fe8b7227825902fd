"""The console every part of a run prints to, and the library noise kept off it."""

from __future__ import annotations

import logging
import warnings

from rich.console import Console

#: soft wrap: long paths stay on one line (a terminal may still fold them; nothing is inserted)
console = Console(soft_wrap=True)

#: warnings of the libraries we use that tell a user nothing they can act on
NOISY_WARNINGS = (
    r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",
    r"You have overridden `on_after_batch_transfer` in `LightningModule`.*",
    r"The number of training batches \(\d+\) is smaller than the logging interval.*",
    r".*does not have many workers which may be a bottleneck.*",
)
#: starts of Lightning's info lines that say nothing about this run's results
NOISY_INFO = (
    "GPU available:",
    "TPU available:",
    "HPU available:",
    "💡 Tip:",
    "Seed set to",
    "Loading `train_dataloader` to estimate",
    "`Trainer(limit_",
    "`Trainer(val_check_interval",
)


class _DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).lstrip().startswith(NOISY_INFO)


def quiet_library_noise() -> None:
    """Filter the known library warnings and info lines at their source (idempotent)."""
    for pattern in NOISY_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.seed"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropNoise) for f in logger.filters):
            logger.addFilter(_DropNoise())
