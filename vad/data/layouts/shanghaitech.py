"""ShanghaiTech Campus: ``training/videos/SS_VVV.avi``, ``testing/frames/SS_VVVV/NNN.jpg`` and
the ``testing/test_frame_mask`` / ``test_pixel_mask`` ``.npy`` ground truth, by scene."""

from __future__ import annotations

import logging
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vad.data.labels import read_npy_labels
from vad.data.layouts.layout import Layout, check_claimed, video_entries
from vad.data.sources import open_source
from vad.data.table import make_table, video_row
from vad.errors import DataError

log = logging.getLogger(__name__)

#: ``SS_VVV`` (training) or ``SS_VVVV`` (testing): scene, then video number
VIDEO_NAME = re.compile(r"^(\d{2})_(\d{3,4})$")
#: training footage, in order of preference when ``train_dir`` is not given
TRAIN_DIRS = ("training/videos", "training/frames")


@dataclass(frozen=True)
class Entry:
    """A video on disk before it is opened: its id, scene and frame folder or video file."""

    video: str
    scene: int
    path: Path


class ShanghaiTechLayout(Layout):
    """ShanghaiTech Campus as distributed; video ids keep their names (``01_001``, ``01_0014``).

    Training footage is ``train_dir`` when given, else ``training/videos/SS_VVV.avi`` when that
    folder exists, else ``training/frames/SS_VVV/`` (copies that ship extracted frames): with both
    present the videos, the original distribution, are read (an extraction may be partial).
    Test videos are frame folders ``testing/frames/SS_VVVV/`` (``000.jpg`` is frame 0); their
    labels are ``<frame_mask_dir>/SS_VVVV.npy`` (0/1 per frame) and their pixel masks
    ``<pixel_mask_dir>/SS_VVVV.npy`` ((T, H, W)); either folder set to None is not read.

    Scenes: ``select_scenes([1, 4])`` (``data.scenes`` through ``VideoDataModule``) keeps only
    the training and test videos of those scenes, e.g. for per-scene models; a scene without any
    video is an error listing the scenes found.
    """

    def __init__(
        self,
        root: str | Path,
        train_dir: str | None = None,
        test_dir: str = "testing/frames",
        frame_mask_dir: str | None = "testing/test_frame_mask",
        pixel_mask_dir: str | None = "testing/test_pixel_mask",
    ) -> None:
        super().__init__(root)
        self.train_dir, self.test_dir = train_dir, test_dir
        self.frame_mask_dir, self.pixel_mask_dir = frame_mask_dir, pixel_mask_dir
        self.scenes: tuple[int, ...] | None = None

    def select_scenes(self, scenes: Sequence[int] | int | None) -> ShanghaiTechLayout:
        """Keep only the videos of ``scenes`` (scene numbers, the ``SS`` of ``SS_VVV``); None
        keeps every scene. Checked against the videos when the folder is read."""
        self.scenes = None if scenes is None else scene_numbers(scenes)
        return self

    def scan(self) -> pd.DataFrame:
        train = entries(self._train_folder())
        test = entries(self.require_dir(self.test_dir))
        if self.scenes is not None:
            train, test = self._keep_scenes(train, test, self.scenes)
        frame_dir = self._ground_truth_dir(self.frame_mask_dir, "frame_mask_dir", "frame labels")
        pixel_dir = self._ground_truth_dir(self.pixel_mask_dir, "pixel_mask_dir", "pixel masks")
        for folder in (frame_dir, pixel_dir):
            self._check_npy_files(folder, test, train)
        rows = [video_row("train", e.video, open_source(e.path)) for e in train]
        rows += [self._test_row(e, frame_dir, pixel_dir) for e in test]
        return make_table(rows, self.root)

    def _train_folder(self) -> Path:
        if self.train_dir is not None:
            return self.require_dir(self.train_dir)
        found = [self.root / d for d in TRAIN_DIRS if (self.root / d).is_dir()]
        if not found:
            paths = " nor ".join(str(self.root / d) for d in TRAIN_DIRS)
            raise DataError(f"{self.root}: no training footage: neither {paths} found")
        if len(found) > 1:
            log.info("%s and %s both exist: reading the videos", *found)
        return found[0]

    def _ground_truth_dir(self, relative: str | None, key: str, what: str) -> Path | None:
        if relative is None:
            return None
        path = self.root / relative
        if not path.is_dir():
            raise DataError(
                f"{path}: folder of the test videos' {what} not found "
                f"(set data.layout.{key}=null to read no {what})"
            )
        return path

    def _check_npy_files(self, folder: Path | None, test: list[Entry], train: list[Entry]) -> None:
        """Every ``.npy`` of a ground-truth folder belongs to a test video (of the selected
        scenes: the files of other scenes are not read)."""
        if folder is None:
            return
        names = [p.stem for p in folder.glob("*.npy") if self._selected(p.stem)]
        check_claimed(
            names, [e.video for e in test], folder, "ground truth", [e.video for e in train]
        )

    def _selected(self, video: str) -> bool:
        match = VIDEO_NAME.match(video)
        return self.scenes is None or match is None or int(match.group(1)) in self.scenes

    def _test_row(self, entry: Entry, frame_dir: Path | None, pixel_dir: Path | None) -> dict:
        source = open_source(entry.path)
        labels, label_file, masks = None, None, None
        if frame_dir is not None:
            label_file = frame_dir / f"{entry.video}.npy"
            if not label_file.is_file():
                raise DataError(
                    f"{label_file}: frame mask (labels) of test video {entry.video!r} not found"
                    f" ({entry.path}; data.layout.frame_mask_dir=null reads no labels)"
                )
            labels = read_npy_labels(label_file)
        if pixel_dir is not None:
            masks = pixel_dir / f"{entry.video}.npy"
            if not masks.is_file():
                raise DataError(
                    f"{masks}: pixel mask of test video {entry.video!r} not found"
                    f" ({entry.path}; data.layout.pixel_mask_dir=null reads no pixel masks)"
                )
        return video_row("test", entry.video, source, labels, label_file, masks)

    def _keep_scenes(
        self, train: list[Entry], test: list[Entry], scenes: tuple[int, ...]
    ) -> tuple[list[Entry], list[Entry]]:
        found = sorted({e.scene for e in train + test})
        missing = [s for s in scenes if s not in found]
        if missing:
            raise DataError(
                f"{self.root}: data.scenes names scene(s) {missing} that no video has "
                f"(scenes found: {found})"
            )
        kept = [e for e in train if e.scene in scenes], [e for e in test if e.scene in scenes]
        for split, videos in zip(("training", "test"), kept, strict=True):
            absent = sorted(set(scenes) - {e.scene for e in videos})
            if absent:
                log.warning("scene(s) %s have no %s video in %s", absent, split, self.root)
        return kept

    def __repr__(self) -> str:
        scenes = "" if self.scenes is None else f", scenes={list(self.scenes)}"
        return f"{type(self).__name__}(root={str(self.root)!r}{scenes})"


def entries(folder: Path) -> list[Entry]:
    """The videos of ``folder`` with their scene, from names ``SS_VVV`` / ``SS_VVVV``."""
    found = []
    for path in video_entries(folder):
        video = path.stem if path.is_file() else path.name
        match = VIDEO_NAME.match(video)
        if match is None:
            raise DataError(
                f"{path}: video name {video!r} is not of the form SS_VVV or SS_VVVV "
                "(scene_video, e.g. 01_001.avi or 01_0014)"
            )
        found.append(Entry(video, int(match.group(1)), path))
    return found


def scene_numbers(scenes: Sequence[int] | int) -> tuple[int, ...]:
    """``data.scenes`` as a tuple of scene numbers (one int is one scene)."""
    values = [scenes] if isinstance(scenes, numbers.Integral) else scenes
    try:
        values = [] if isinstance(values, str | bytes) else list(values)
    except TypeError:  # not iterable
        values = []
    if not values or any(
        isinstance(s, bool) or not isinstance(s, numbers.Integral) for s in values
    ):
        raise DataError(
            f"data.scenes={scenes!r}: expected a non-empty list of scene numbers, e.g. [1, 4] "
            "(null keeps every scene)"
        )
    return tuple(dict.fromkeys(int(s) for s in values))
