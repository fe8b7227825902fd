"""CUHK Avenue: ``training_videos/NN.avi``, ``testing_videos/NN.avi`` and ``volLabel`` masks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from vad.data.labels import labels_from_vol_label
from vad.data.layouts.layout import Layout, video_entries
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
        rows = [
            video_row("train", p.stem, open_source(p))
            for p in video_entries(self.require_dir(self.train_dir))
        ]
        for path in video_entries(self.require_dir(self.test_dir)):
            source = open_source(path)
            label_file = self._label_file(path)
            labels = labels_from_vol_label(label_file) if label_file else None
            rows.append(video_row("test", path.stem, source, labels, label_file, label_file))
        return make_table(rows, self.root)

    def _label_file(self, video: Path) -> Path | None:
        if self.gt_dir is None:
            return None
        number = int(video.stem) if video.stem.isdigit() else video.stem
        path = self.root / self.gt_dir / f"{number}_label.mat"
        if not path.is_file():
            raise DataError(f"{path}: ground-truth file for test video {video.name} not found")
        return path
