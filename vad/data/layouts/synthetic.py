"""The built-in ``synthetic`` dataset: generated on first use, then read as a ``frames`` layout."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd

from vad.data import synthetic
from vad.data.layouts.frames import FramesLayout
from vad.utils.hashing import stable_hash


class SyntheticLayout(FramesLayout):
    """Generates the dataset under ``root/seed<seed>_<hash>/`` unless a complete copy is there."""

    def __init__(
        self,
        root: str | Path,
        seed: int = 0,
        n_train: int = 8,
        n_test: int = 6,
        n_frames: int = 120,
        width: int = 160,
        height: int = 120,
    ) -> None:
        self.params = {
            "seed": seed,
            "n_train": n_train,
            "n_test": n_test,
            "n_frames": n_frames,
            "width": width,
            "height": height,
        }
        folder = Path(root).expanduser() / f"seed{seed}_{stable_hash(self.params, 8)}"
        super().__init__(folder, gt="synthetic.npy")

    def videos(self) -> pd.DataFrame:
        if not synthetic.is_complete(self.root, self.params):
            _generate_atomically(self.root, self.params)
        return super().videos()


def _generate_atomically(folder: Path, params: dict) -> None:
    """Generate into a temporary sibling, then rename, so a half-written dataset is never read."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    synthetic.generate(tmp, **params)
    if folder.exists():  # an incomplete earlier attempt, or a concurrent process finished first
        if synthetic.is_complete(folder, params):
            shutil.rmtree(tmp, ignore_errors=True)
            return
        shutil.rmtree(folder)
    os.replace(tmp, folder)
