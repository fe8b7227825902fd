"""One run per run folder: a lock file created atomically (``O_CREAT | O_EXCL``) that holds the
owner's pid and host.

A second run that names the same folder (``hydra.run.dir``) while the first is alive is refused
with an error naming the folder and the owner, before it writes anything there. A lock left by a
run that died (its pid no longer exists on this host) is taken over with a one-line warning. A
lock written on another host (a shared filesystem) cannot be checked, so it is honoured.
"""

from __future__ import annotations

import atexit
import errno
import json
import logging
import os
import socket
import time
from pathlib import Path

from vad.errors import RunFolderError

log = logging.getLogger(__name__)
LOCK_NAME = ".run.lock"
#: age after which a takeover guard is itself stale
GUARD_SECONDS = 10


def acquire(folder: str | Path) -> Path:
    """Lock ``folder`` (created when missing) for this process; the lock file's path.

    Re-entrant: a lock this process already holds is kept. Released by ``release`` or when the
    process exits."""
    lock = Path(folder) / LOCK_NAME
    lock.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):  # a stale lock is removed, then the creation is retried
        if _create(lock):
            atexit.register(release, lock)
            return lock
        owner = _owner(lock)
        if owner is None:  # removed meanwhile, being written, or left empty by a dead run
            if _age(lock) > GUARD_SECONDS:
                _take_over(lock, None)
            time.sleep(0.01)
            continue
        if owner.get("pid") == os.getpid() and owner.get("host") == socket.gethostname():
            return lock
        if _alive(owner):
            raise RunFolderError(
                f"{lock.parent}: run folder in use by another run (pid {owner.get('pid')} on "
                f"{owner.get('host')}, since {owner.get('started')}); choose another "
                f"hydra.run.dir, or delete {lock} if that run is over"
            )
        _take_over(lock, owner)
    raise RunFolderError(f"{lock}: could not lock the run folder (other runs keep taking it)")


def release(lock: str | Path) -> None:
    """Remove ``lock`` when this process holds it (another holder's lock is left alone)."""
    lock = Path(lock)
    owner = _owner(lock)
    if owner and owner.get("pid") == os.getpid() and owner.get("host") == socket.gethostname():
        lock.unlink(missing_ok=True)


def _create(lock: Path) -> bool:
    """Create ``lock`` holding this process's pid; False when it exists."""
    try:
        descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    owner = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    with os.fdopen(descriptor, "w") as handle:
        json.dump(owner, handle)
    return True


def _owner(lock: Path) -> dict | None:
    """The lock's content, or None when it is gone or not (yet) complete."""
    try:
        owner = json.loads(lock.read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return owner if isinstance(owner, dict) else None


def _alive(owner: dict) -> bool:
    """Whether the lock's owner may still run: its pid exists, or it is on another host."""
    if owner.get("host") != socket.gethostname():
        return True
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM  # exists, owned by another user
    return True


def _age(path: Path) -> float:
    """Seconds since ``path`` was modified (0 when it is gone)."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _take_over(lock: Path, owner: dict | None) -> None:
    """Remove a dead run's lock. A guard file makes this atomic: of two runs taking it over, one
    removes it (after checking it is still the dead run's) and the other retries."""
    guard = lock.with_name(f"{LOCK_NAME}.takeover")
    if not _create(guard):
        if _age(guard) > GUARD_SECONDS:  # left by a run that died while taking over
            guard.unlink(missing_ok=True)
        time.sleep(0.05)
        return
    try:
        if _owner(lock) == owner:
            lock.unlink(missing_ok=True)
            dead = (
                f"run pid {owner.get('pid')} (started {owner.get('started')})" if owner else "a run"
            )
            log.warning(
                "%s: taking over the lock of %s, which is no longer running", lock.parent, dead
            )
    finally:
        guard.unlink(missing_ok=True)
