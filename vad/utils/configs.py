"""Where the Hydra configs are, the same way in a source checkout, an editable install and a
wheel: the package's own copy ``vad/conf`` (a built wheel carries one, copied from ``conf/`` by
``setup.py``), else the checkout's top-level ``conf/`` beside the package."""

from __future__ import annotations

from pathlib import Path

from vad.errors import VADError

#: the config every entry point starts from; its presence marks a config folder
MARKER = "train.yaml"


def config_dir(package: Path | None = None) -> Path:
    """The config folder of this installation of vad (``package``: the ``vad`` folder)."""
    package = Path(__file__).resolve().parents[1] if package is None else Path(package)
    candidates = (package / "conf", package.parent / "conf")
    for candidate in candidates:
        if (candidate / MARKER).is_file():
            return candidate
    raise VADError(
        f"no config folder: neither {candidates[0]} nor {candidates[1]} holds {MARKER}; "
        "reinstall vad (pip install .) or run from a source checkout"
    )
