"""The Hydra callback that locks a run's folder before Hydra or the task writes into it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from vad.cli.error_messages import user_errors
from vad.io.run_lock import acquire, release


class RunFolderLock(Callback):
    """Locks ``hydra.run.dir`` at the start of a run (``vad.io.run_lock``): a second run naming
    the folder of a live one stops with one ``error:`` line before Hydra saves its config there,
    so nothing of the first run is overwritten. Released when the run ends (or its process
    exits). Multiruns give each job its own folder and are not locked."""

    def __init__(self) -> None:
        self.lock: Path | None = None

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        HydraConfig.instance().set_config(config)  # resolves ${hydra:...} in the folder's path
        folder = Path(str(OmegaConf.select(config, "hydra.run.dir")))
        with user_errors():
            self.lock = acquire(folder)

    def on_run_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self.lock is not None:
            release(self.lock)
            self.lock = None
