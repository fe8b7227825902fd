"""The built-in ``synthetic`` dataset: generated on first use, then read as a ``frames`` layout."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from vad.data import synthetic
from vad.data.layouts.frames import FramesLayout
from vad.io.atomic import atomic_folder
from vad.utils.hashing import stable_hash


class SyntheticLayout(FramesLayout):
    """Generates the dataset under ``root/seed<seed>_<hash>/`` unless a complete copy is there.

    ``params`` are the generator's (``vad.data.synthetic.SyntheticParams``: ``seed``, ``n_train``,
    ``n_test``, ``n_frames``, ``width``, ``height``); unnamed ones take their defaults.
    """

    def __init__(self, root: str | Path, **params: int) -> None:
        self.params = synthetic.SyntheticParams(**params).as_dict()
        folder = (
            Path(root).expanduser() / f"seed{self.params['seed']}_{stable_hash(self.params, 8)}"
        )
        super().__init__(folder, gt=synthetic.LABELS_FILE)

    def videos(self) -> pd.DataFrame:
        if not self._is_complete(self.root):
            # generated beside the target and renamed, so a half-written dataset is never read;
            # a complete copy another process finished first is kept
            with atomic_folder(self.root, keep_existing=self._is_complete) as tmp:
                synthetic.generate(tmp, **self.params)
        return super().videos()

    def _is_complete(self, folder: Path) -> bool:
        return synthetic.is_complete(folder, self.params)
