"""Optional extras: a config choice whose packages are missing is one line naming the install."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

#: (config group, choice) -> (module it needs, the extra that installs it)
NEEDS = {
    ("logger", "tensorboard"): ("tensorboard", "tensorboard"),
    ("hydra/launcher", "submitit_slurm"): ("hydra_plugins.hydra_submitit_launcher", "slurm"),
    ("hydra/launcher", "joblib"): ("hydra_plugins.hydra_joblib_launcher", "slurm"),
    ("hparams_search", "ensemble_optuna"): ("hydra_plugins.hydra_optuna_sweeper", "optuna"),
}


def missing_extra(arguments: Sequence[str]) -> str | None:
    """The message for the first command-line choice whose extra is not installed, or None."""
    for argument in arguments:
        group, _, choice = argument.lstrip("+~").partition("=")
        module, extra = NEEDS.get((group, choice), (None, None))
        if module is not None and not _installed(module):
            return (
                f"error: {group}={choice} needs the '{extra}' extra: "
                f"pip install 'vad[{extra}]' (or 'vad[all]')"
            )
    return None


def exit_if_an_extra_is_missing(arguments: Sequence[str] | None = None) -> None:
    """Print ``missing_extra``'s line and exit with status 1 when there is one."""
    message = missing_extra(sys.argv[1:] if arguments is None else arguments)
    if message is not None:
        print(message, file=sys.stderr)
        raise SystemExit(1)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
