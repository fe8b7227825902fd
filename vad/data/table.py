"""The video table: one row per video, the common currency of every dataset layout.

Columns:
    split      ``"train"`` (normal footage) or ``"test"``
    video      video id as a string (``"01"``); unique within a split
    source     path of the frame folder or video file
    frame_ids  int64 array of the original frame ids, increasing
    labels     uint8 array of per-frame labels (1 = anomalous) aligned with ``frame_ids``, or None
    masks      path of the video's per-pixel ground truth (``vad.data.masks``), or None
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from vad.data.masks import check_masks
from vad.data.sources import FrameSource, open_source
from vad.errors import DataError

COLUMNS = ["split", "video", "source", "frame_ids", "labels", "masks"]
SPLITS = ("train", "test")


def video_row(
    split: str, video: str, source: FrameSource, labels=None, label_file=None, masks=None
) -> dict:
    """One table row; checks that the labels and the pixel masks, when given, have one entry per
    frame."""
    if labels is not None:
        labels = np.asarray(labels, dtype=np.uint8).ravel()
        if len(labels) != len(source.ids):
            where = label_file or source.path
            raise DataError(
                f"{where}: {len(labels)} labels for video {video!r} "
                f"but it has {len(source.ids)} frames ({source.path})"
            )
    return {
        "split": split,
        "video": str(video),
        "source": str(source.path),
        "frame_ids": source.ids,
        "labels": labels,
        "masks": check_masks(masks, len(source.ids), video) if masks is not None else None,
    }


def make_table(rows: Iterable[dict], origin: Path | str) -> pd.DataFrame:
    """Build and validate a video table; ``origin`` names the dataset in error messages."""
    table = pd.DataFrame(list(rows), columns=COLUMNS)
    table["masks"] = table["masks"].astype(object).where(table["masks"].notna(), None)
    if table.empty:
        raise DataError(f"{origin}: no videos found")
    bad = set(table["split"]) - set(SPLITS)
    if bad:
        raise DataError(f"{origin}: unknown split(s) {sorted(bad)}")
    dup = table[table.duplicated(["split", "video"], keep=False)]
    if not dup.empty:
        raise DataError(
            f"{origin}: duplicate video ids {sorted(set(dup['video']))} "
            f"in split {dup['split'].iloc[0]!r}"
        )
    return table.reset_index(drop=True)


def table_from_sources(split: str, paths: Iterable[Path], labels: dict | None = None) -> list[dict]:
    """Rows for a list of sources, video id = file or folder stem."""
    labels = labels or {}
    rows = []
    for path in paths:
        video = Path(path).stem
        rows.append(video_row(split, video, open_source(path), labels.get(video)))
    return rows


def frame_count(table: pd.DataFrame) -> int:
    return int(sum(len(ids) for ids in table["frame_ids"]))
