"""Atomic writes: write to a temporary file or folder beside the target, then rename it into place.

An interrupted run therefore never leaves a half-written CSV, JSON, checkpoint or dataset folder
behind. A file gets the permissions a plain ``open(path, "w")`` would give it: those of the file it
replaces, or 0666 less the process umask for a new file; a folder gets 0777 less the umask.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
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
        with _disk_full_named(path, lambda: _bytes_in(Path(tmp))):
            yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_folder(
    path: str | Path, keep_existing: Callable[[Path], bool] | None = None
) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; on success it replaces ``path``.

    Anything that ends the block early (an error, ``KeyboardInterrupt`` from SIGINT, ``SystemExit``
    from a SIGTERM handler) removes the temporary folder, so ``path`` is only ever absent, the old
    folder or the complete new one. The folder already at ``path`` is kept (and the new one
    dropped) when ``keep_existing(path)`` is true, or when another process moved one there first.
    """
    path = Path(path)
    tmp = _temporary_folder(path)
    try:
        with _disk_full_named(path, lambda: _bytes_in(tmp)):
            yield tmp
        _move_into_place(tmp, path, keep_existing)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


#: errors of a write that found no space (a full disk, a quota, a file-size limit)
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


@contextmanager
def _disk_full_named(path: Path, written: Callable[[], int]) -> Iterator[None]:
    """Turn an ``OSError`` of a full disk raised while ``path`` is written into a VADError
    naming ``path``, what had been written (it needs more than that) and the space left; the
    previous ``path`` is untouched (the temporary copy is removed by the caller)."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in DISK_FULL:
            raise
        try:
            free = _megabytes(shutil.disk_usage(path.parent).free)
        except OSError:
            free = "unknown"
        raise VADError(
            f"{path}: {exc.strerror or os.strerror(exc.errno)} while writing it: it needs more "
            f"than the {_megabytes(written())} written when the write failed ({free} free on "
            f"its filesystem); the previous {path.name}, if any, is left as it was"
        ) from exc


def _bytes_in(path: Path) -> int:
    """The size of a file, or of every file under a folder (0 when it is gone)."""
    try:
        if path.is_file():
            return path.stat().st_size
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    except OSError:
        return 0


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size} bytes"


def _temporary_folder(path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    except OSError as exc:
        raise VADError(f"{path.parent}: output folder is not writable ({exc.strerror})") from exc
    os.chmod(tmp, 0o777 & ~current_umask())
    return tmp


def _move_into_place(tmp: Path, path: Path, keep_existing: Callable[[Path], bool] | None) -> None:
    if keep_existing is not None and path.exists() and keep_existing(path):
        return
    shutil.rmtree(path, ignore_errors=True)
    try:
        os.replace(tmp, path)
    except OSError:
        if not path.is_dir():  # not a folder another process finished first
            raise


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


#: why a value is ``null`` in a JSON file where the computation gave NaN or an infinity
UNDEFINED_REASON = "not a finite number: undefined for these frames (e.g. an AUC of one class)"


def write_json(obj: Any, path: str | Path) -> Path:
    """Strict JSON (no NaN / Infinity): a non-finite number becomes ``null`` and, in a mapping at
    the top, its dotted key is listed under ``"undefined"`` with the reason."""
    undefined: list[str] = []
    clean = _finite(obj, "", undefined)
    if undefined and isinstance(clean, dict):
        clean["undefined"] = {
            **clean.get("undefined", {}),
            **dict.fromkeys(undefined, UNDEFINED_REASON),
        }
    with atomic_open(path) as handle:
        json.dump(clean, handle, indent=2, default=_json_default, allow_nan=False)
        handle.write("\n")
    return Path(path)


def _finite(obj: Any, key: str, undefined: list[str]) -> Any:
    """``obj`` with numpy scalars as Python numbers and non-finite floats as None."""
    if isinstance(obj, dict):
        return {k: _finite(v, f"{key}.{k}" if key else str(k), undefined) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v, f"{key}[{i}]", undefined) for i, v in enumerate(obj)]
    if hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        undefined.append(key)
        return None
    return obj


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
