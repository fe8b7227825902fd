"""A full disk while scores, pixel maps or the frame cache are written: the error names the path
and the space, and the previous file stays whole (the write failure is injected: the module's
``open`` returns files whose writes fail with ENOSPC once a byte budget is spent)."""

from __future__ import annotations

import builtins
import errno
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import vad.io.atomic
import vad.io.npy
import vad.scoring.pixel_maps
from tests.helpers import make_frames_dataset
from vad.data.cache import FrameCache
from vad.data.layouts import FramesLayout
from vad.errors import VADError
from vad.io.scores import write_scores
from vad.scoring.pixel_maps import write_maps


class FillingFile:
    """A file whose writes fail with ENOSPC once ``budget`` bytes (shared) are written."""

    def __init__(self, handle: Any, budget: list[int]) -> None:
        self._handle, self._budget = handle, budget

    def write(self, data: Any) -> int:
        size = len(data)
        if size > self._budget[0]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._budget[0] -= size
        return self._handle.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __iter__(self):
        return iter(self._handle)

    def __enter__(self) -> FillingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


def fill_disk(monkeypatch: pytest.MonkeyPatch, module: Any, budget: int) -> None:
    """Files ``module`` opens for writing hold at most ``budget`` bytes in all."""
    left = [budget]

    def limited_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = builtins.open(file, mode, *args, **kwargs)  # noqa: SIM115 (the caller closes it)
        return FillingFile(handle, left) if any(c in mode for c in "wax+") else handle

    monkeypatch.setattr(module, "open", limited_open, raising=False)


def check_message(info: pytest.ExceptionInfo, path: Path) -> None:
    message = str(info.value)
    assert str(path) in message and "No space left on device" in message
    assert "it needs more than the" in message and "free on its filesystem" in message


def scores(n: int) -> pd.DataFrame:
    return pd.DataFrame({"video": ["01"] * n, "frame": range(n), "score": np.linspace(0, 1, n)})


def test_scores_on_a_full_disk_keep_the_previous_file(monkeypatch, tmp_path: Path) -> None:
    path = write_scores(scores(5), tmp_path / "scores.csv")
    before = path.read_bytes()
    fill_disk(monkeypatch, vad.io.atomic, budget=100)
    with pytest.raises(VADError) as info:
        write_scores(scores(5000), path)
    check_message(info, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["scores.csv"]


def test_pixel_maps_on_a_full_disk_keep_the_previous_file(monkeypatch, tmp_path: Path) -> None:
    path = tmp_path / "pixel_maps" / "01.npy"
    write_maps(np.ones((2, 8, 8), np.float32), path)
    before = path.read_bytes()
    fill_disk(monkeypatch, vad.scoring.pixel_maps, budget=200)
    with pytest.raises(VADError) as info:
        write_maps(np.zeros((50, 64, 64), np.float32), path)
    check_message(info, path)
    assert path.read_bytes() == before and os.listdir(path.parent) == ["01.npy"]
    assert np.load(path).shape == (2, 8, 8)


def test_a_cache_entry_on_a_full_disk_leaves_the_cache_whole(monkeypatch, tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "ds", {"01": 4}, {"01": 30})
    table = FramesLayout(root, gt=False).videos()
    cache = FrameCache(tmp_path / "cache", (16, 16), 1, workers=1)
    built = cache.load(table.iloc[0])
    entries = sorted(os.listdir(tmp_path / "cache"))
    fill_disk(monkeypatch, vad.io.npy, budget=1000)  # 30 frames of 256 bytes do not fit
    test = table.iloc[1]
    with pytest.raises(VADError) as info:
        cache.load(test)
    check_message(info, tmp_path / "cache" / cache.key(test))
    assert sorted(os.listdir(tmp_path / "cache")) == entries  # no half-built entry left
    assert cache.load(table.iloc[0]).frames.shape == built.frames.shape == (4, 16, 16, 1)
