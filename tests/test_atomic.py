"""The atomic folder helper: a folder appears complete or not at all."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from vad.io.atomic import atomic_folder, current_umask, write_json


def test_success_renames_into_place(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out"
    with atomic_folder(target) as tmp:
        assert tmp.is_dir() and tmp.parent == target.parent and not target.exists()
        (tmp / "a.txt").write_text("a")
    assert (target / "a.txt").read_text() == "a"
    assert os.listdir(target.parent) == ["out"]
    assert target.stat().st_mode & 0o777 == 0o777 & ~current_umask()


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt, SystemExit])
def test_interruption_leaves_nothing(tmp_path: Path, error: type[BaseException]) -> None:
    target = tmp_path / "out"
    with pytest.raises(error), atomic_folder(target) as tmp:
        (tmp / "half.txt").write_text("half")
        raise error()
    assert os.listdir(tmp_path) == []


def test_replaces_an_existing_folder(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic_folder(target) as tmp:
        (tmp / "new.txt").write_text("new")
    assert os.listdir(target) == ["new.txt"] and os.listdir(tmp_path) == ["out"]


def test_keep_existing(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic_folder(target, keep_existing=lambda p: (p / "old.txt").exists()) as tmp:
        (tmp / "new.txt").write_text("new")
    assert os.listdir(target) == ["old.txt"] and os.listdir(tmp_path) == ["out"]


def test_failed_interruption_keeps_the_old_folder(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(ValueError), atomic_folder(target):
        raise ValueError
    assert os.listdir(target) == ["old.txt"] and os.listdir(tmp_path) == ["out"]


def test_json_files_are_strict_with_the_reason_for_each_null(tmp_path: Path) -> None:
    def refuse(name: str) -> None:
        raise ValueError(f"non-standard JSON constant {name}")

    metrics = {"micro_auc": float("nan"), "ap": np.float32(0.5), "per": [{"auc": np.inf}, 1.0]}
    path = write_json(metrics, tmp_path / "metrics.json")
    loaded = json.loads(path.read_text(), parse_constant=refuse)
    assert loaded["micro_auc"] is None and loaded["per"][0]["auc"] is None
    assert loaded["ap"] == 0.5  # exact: float32 0.5 is a power of two
    assert set(loaded["undefined"]) == {"micro_auc", "per[0].auc"}
    assert "one class" in loaded["undefined"]["micro_auc"]
