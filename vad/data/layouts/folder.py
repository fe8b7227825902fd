"""A generic layout: ``train/`` and ``test/`` holding video files and/or frame folders."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from vad.data.labels import align_csv_labels, read_labels_csv
from vad.data.layouts.layout import Layout, check_claimed, video_entries
from vad.data.sources import open_source
from vad.data.table import make_table, video_row
from vad.errors import DataError

DEFAULT_LABELS = "labels.csv"


class FolderLayout(Layout):
    """Video id = file stem or folder name. Test labels from a labels CSV (``video,frame,label``;
    frame = the frame id); when the file exists every test video needs labels. ``labels=None``
    reads ``<root>/labels.csv`` when it exists; a file named here (or ``require_labels=True``)
    must exist: a misspelt name is an error, never a run without metrics (``default_labels``:
    the optional file's name, None for none).
    ``train_dir=None`` makes a test-only dataset (for scoring footage with a trained model)."""

    def __init__(
        self,
        root: str | Path,
        train_dir: str | None = "train",
        test_dir: str = "test",
        labels: str | Path | None = None,
        require_labels: bool = False,
        default_labels: str | None = DEFAULT_LABELS,
    ) -> None:
        super().__init__(root)
        self.train_dir, self.test_dir = train_dir, test_dir
        name = labels or default_labels
        self.labels = self.root / name if name else None
        self.require_labels = require_labels or labels is not None

    def scan(self) -> pd.DataFrame:
        rows = []
        if self.train_dir is not None:
            rows += [
                video_row("train", _video_id(p), open_source(p))
                for p in video_entries(self.require_dir(self.train_dir))
            ]
        if self.require_labels and not (self.labels and self.labels.is_file()):
            raise DataError(
                f"{self.labels}: labels file not found (data.layout.labels names a file under "
                f"{self.root}; null reads {DEFAULT_LABELS} when present)"
            )
        by_video = read_labels_csv(self.labels) if self.labels and self.labels.is_file() else None
        test = [
            (_video_id(p), open_source(p)) for p in video_entries(self.require_dir(self.test_dir))
        ]
        if by_video is not None:
            train = [row["video"] for row in rows]
            check_claimed(by_video, [v for v, _ in test], self.labels, "label rows", train)
        for video, source in test:
            labels = None
            if by_video is not None:
                labels = align_csv_labels(by_video, video, source.ids, self.labels)
            rows.append(video_row("test", video, source, labels, self.labels))
        return make_table(rows, self.root)


def _video_id(path: Path) -> str:
    return path.name if path.is_dir() else path.stem
