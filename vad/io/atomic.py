"""Atomic file writes: write to a temporary file in the same folder, then rename over the target.

An interrupted run therefore never leaves a half-written CSV, JSON or checkpoint behind. The file
gets the permissions a plain ``open(path, "w")`` would give it: those of the file it replaces, or
0666 less the process umask for a new file.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pandas as pd

from vad.errors import VADError

_UMASK_LOCK = threading.Lock()


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it is renamed to ``path``.

    ``suffix`` ends the temporary name (e.g. ``.mp4`` for writers that pick the format from it).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    except OSError as exc:
        raise VADError(f"{path.parent}: output folder is not writable ({exc.strerror})") from exc
    try:
        try:
            os.fchmod(fd, _new_file_mode(path))
        finally:
            os.close(fd)
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _new_file_mode(path: Path) -> int:
    """The mode ``open(path, "w")`` leaves: the existing file's, else 0666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~current_umask()


def current_umask() -> int:
    """The process umask (read without changing it where the system allows)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:  # os.umask can only be read by setting it
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


@contextmanager
def atomic_open(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    with atomic_path(path) as tmp, open(tmp, mode) as handle:
        yield handle


def write_csv(frame: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    kwargs.setdefault("index", False)
    with atomic_open(path) as handle:
        frame.to_csv(handle, **kwargs)
    return Path(path)


def write_json(obj: Any, path: str | Path) -> Path:
    with atomic_open(path) as handle:
        json.dump(obj, handle, indent=2, default=_json_default)
        handle.write("\n")
    return Path(path)


def write_text(text: str, path: str | Path) -> Path:
    with atomic_open(path) as handle:
        handle.write(text)
    return Path(path)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)
