"""CUHK Avenue: ``training_videos/NN.avi``, ``testing_videos/NN.avi`` and ``volLabel`` masks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from vad.data.labels import labels_from_vol_label
from vad.data.layouts.layout import Layout, check_claimed, video_entries
from vad.data.sources import open_source
from vad.data.table import make_table, video_row
from vad.errors import DataError


class AvenueLayout(Layout):
    """Avenue as distributed; test labels from ``<gt_dir>/<N>_label.mat`` (``volLabel``: a 1xT
    cell of HxW masks, a frame is anomalous if any pixel is set; the masks are also the per-pixel
    ground truth). ``gt_dir=None`` reads no labels."""

    def __init__(
        self,
        root: str | Path,
        train_dir: str = "training_videos",
        test_dir: str = "testing_videos",
        gt_dir: str | None = "ground_truth_demo/testing_label_mask",
    ) -> None:
        super().__init__(root)
        self.train_dir, self.test_dir, self.gt_dir = train_dir, test_dir, gt_dir

    def scan(self) -> pd.DataFrame:
        train = video_entries(self.require_dir(self.train_dir))
        rows = [video_row("train", p.stem, open_source(p)) for p in train]
        test = video_entries(self.require_dir(self.test_dir))
        self._check_label_files(test, [_number(p) for p in train])
        for path in test:
            source = open_source(path)
            label_file = self._label_file(path)
            labels = labels_from_vol_label(label_file) if label_file else None
            rows.append(video_row("test", path.stem, source, labels, label_file, label_file))
        return make_table(rows, self.root)

    def _check_label_files(self, test: list[Path], train: list[str]) -> None:
        """Every ``<N>_label.mat`` of the ground-truth folder belongs to a test video."""
        folder = self.root / self.gt_dir if self.gt_dir is not None else None
        if folder is None or not folder.is_dir():
            return
        names = [p.name[: -len(_LABEL)] for p in folder.iterdir() if p.name.endswith(_LABEL)]
        check_claimed(names, [_number(p) for p in test], folder, "label files", train)

    def _label_file(self, video: Path) -> Path | None:
        if self.gt_dir is None:
            return None
        path = self.root / self.gt_dir / f"{_number(video)}{_LABEL}"
        if not path.is_file():
            raise DataError(f"{path}: ground-truth file for test video {video.name} not found")
        return path


_LABEL = "_label.mat"


def _number(video: Path) -> str:
    """The number a label file names a video by: ``01.avi`` -> ``1``."""
    return str(int(video.stem)) if video.stem.isdigit() else video.stem
