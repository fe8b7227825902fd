"""One run per run folder: the second run naming a live run's folder is refused, nothing of the
first is touched; the lock of a run that died is taken over with a warning."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT
from vad.errors import RunFolderError
from vad.io.run_lock import LOCK_NAME, acquire, release


def write_lock(folder: Path, pid: int, host: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    owner = {"pid": pid, "host": host or socket.gethostname(), "started": "2026-01-01 00:00:00"}
    lock.write_text(json.dumps(owner))
    return lock


def dead_pid() -> int:
    """The pid of a process that has exited (and was reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def live_pid():
    """The pid of another process that runs for the test's duration."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child.pid
    child.kill()
    child.wait()


def test_acquire_writes_this_pid_and_release_removes_it(tmp_path: Path) -> None:
    lock = acquire(tmp_path / "run")
    assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert acquire(tmp_path / "run") == lock  # re-entrant within the process
    release(lock)
    assert not lock.exists()


def test_a_live_runs_folder_is_refused_and_left_untouched(tmp_path: Path, live_pid: int) -> None:
    folder = tmp_path / "run"
    lock = write_lock(folder, live_pid)
    (folder / "scores.csv").write_text("video,frame,score\n01,0,0.5\n")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(RunFolderError, match="in use by another run") as info:
        acquire(folder)
    assert str(folder) in str(info.value) and f"pid {live_pid}" in str(info.value)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    release(lock)  # not ours: left alone
    assert lock.exists()


def test_a_dead_runs_lock_is_taken_over_with_a_warning(tmp_path: Path, caplog) -> None:
    pid = dead_pid()
    write_lock(tmp_path / "run", pid)
    with caplog.at_level(logging.WARNING, logger="vad.io.run_lock"):
        lock = acquire(tmp_path / "run")
    assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert any(f"run pid {pid}" in r.getMessage() for r in caplog.records)
    release(lock)


def test_a_lock_from_another_host_is_honoured(tmp_path: Path) -> None:
    write_lock(tmp_path / "run", 1, host="some-other-node")
    with pytest.raises(RunFolderError, match="on some-other-node"):
        acquire(tmp_path / "run")


def _try_lock(folder: str, queue, finish) -> None:
    """Try to lock ``folder``; report, then hold what was taken until ``finish`` is set."""
    try:
        acquire(folder)
        queue.put("won")
    except RunFolderError:
        queue.put("refused")
    finish.wait(30)


def test_of_runs_racing_for_a_stale_lock_exactly_one_wins(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    write_lock(folder, dead_pid())
    context = multiprocessing.get_context("spawn")
    queue, finish = context.Queue(), context.Event()
    runs = [context.Process(target=_try_lock, args=(str(folder), queue, finish)) for _ in range(4)]
    for process in runs:
        process.start()
    results = sorted(queue.get(timeout=60) for _ in runs)
    finish.set()
    for process in runs:
        process.join(30)
    assert results == ["refused", "refused", "refused", "won"]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "VAD_ROOT": str(cwd)}
    return subprocess.run(
        [sys.executable, str(ROOT / "ensemble.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_second_run_in_a_live_runs_folder_stops_before_writing(
    tmp_path: Path, live_pid: int
) -> None:
    folder = tmp_path / "outputs" / "shared_run"
    write_lock(folder, live_pid)
    (folder / ".hydra").mkdir()
    (folder / ".hydra" / "config.yaml").write_text("first run's config\n")
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    done = _run([f"hydra.run.dir={folder}", "members=[nowhere]"], tmp_path)
    assert done.returncode == 1
    assert "error:" in done.stderr and "in use by another run" in done.stderr
    assert f"pid {live_pid}" in done.stderr and "Traceback" not in done.stderr
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
