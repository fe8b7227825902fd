"""The ``frames`` layout of FFP/MNAD: ``training/frames/NN/*.jpg``, ``testing/frames/NN/*.jpg``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vad.data.labels import ranges_to_labels, read_mat_ranges, read_npy_labels, split_concatenated
from vad.data.layouts.layout import Layout, check_claimed, video_entries
from vad.data.sources import open_source
from vad.data.table import make_table, video_row
from vad.errors import DataError


class FramesLayout(Layout):
    """Frame folders per video; test labels from ``<gt>.mat`` (``gt`` cell of 1-based inclusive
    ``[start; end]`` ranges) or a ``.npy`` of frame labels concatenated over the test videos.

    ``gt=None`` looks for ``<root name>.mat``, then ``<root name>.npy``; ``gt=False`` reads no
    labels. Per-pixel masks come from ``<mask_dir>/<video>/`` (one image per frame, non-zero =
    anomalous) when that folder exists; ``mask_dir=None`` reads none.
    """

    def __init__(
        self,
        root: str | Path,
        train_dir: str = "training/frames",
        test_dir: str = "testing/frames",
        gt: str | bool | None = None,
        gt_key: str = "gt",
        mask_dir: str | None = "testing/masks",
    ) -> None:
        super().__init__(root)
        self.train_dir, self.test_dir, self.gt, self.gt_key = train_dir, test_dir, gt, gt_key
        self.mask_dir = mask_dir

    def gt_file(self) -> Path | None:
        if self.gt is False:
            return None
        if self.gt:
            path = self.root / self.gt
            if not path.is_file():
                raise DataError(f"{path}: ground-truth file not found")
            return path
        for suffix in (".mat", ".npy"):
            path = self.root / f"{self.root.name}{suffix}"
            if path.is_file():
                return path
        return None

    def scan(self) -> pd.DataFrame:
        train = [open_source(p) for p in video_entries(self.require_dir(self.train_dir))]
        test = [open_source(p) for p in video_entries(self.require_dir(self.test_dir))]
        gt = self.gt_file()
        labels = self._test_labels(test, gt) if gt else [None] * len(test)
        self._check_mask_folders([s.path.name for s in test], [s.path.name for s in train])
        rows = [video_row("train", s.path.name, s) for s in train]
        rows += [
            video_row("test", s.path.name, s, lab, gt, self._masks(s.path.name))
            for s, lab in zip(test, labels, strict=True)
        ]
        return make_table(rows, self.root)

    def _masks(self, video: str) -> Path | None:
        """The video's mask folder; a mask folder that lacks one of the test videos is an error."""
        if self.mask_dir is None or not (self.root / self.mask_dir).is_dir():
            return None
        folder = self.root / self.mask_dir / video
        if not folder.is_dir():
            raise DataError(f"{folder}: pixel masks of test video {video!r} not found")
        return folder

    def _check_mask_folders(self, test: list[str], train: list[str]) -> None:
        """Every entry of the mask folder is the folder of a test video."""
        if self.mask_dir is None or not (self.root / self.mask_dir).is_dir():
            return
        folder = self.root / self.mask_dir
        names = [p.name for p in folder.iterdir() if not p.name.startswith(".")]
        check_claimed(names, test, folder, "pixel masks", train)

    def _test_labels(self, test: list, gt: Path) -> list[np.ndarray]:
        lengths = [len(s.ids) for s in test]
        if gt.suffix == ".npy":
            return split_concatenated(read_npy_labels(gt), lengths, gt)
        ranges = read_mat_ranges(gt, self.gt_key)
        if len(ranges) != len(test):
            raise DataError(
                f"{gt}: {len(ranges)} ground-truth entries but "
                f"{len(test)} test videos in {self.root / self.test_dir}"
            )
        return [
            ranges_to_labels(r, n, f"{gt} (video {s.path.name})")
            for r, n, s in zip(ranges, lengths, test, strict=True)
        ]
