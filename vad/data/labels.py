"""Ground-truth readers. All return per-frame uint8 labels (1 = anomalous) by frame *position*.

Temporal ground truth in the VAD literature gives 1-based inclusive frame ranges (UCSD frame 1 is
``001.tif`` or, in the frames distribution, ``000.jpg``), so ranges are applied to frame positions.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

from vad.data.frame_decoding import read_mask_image
from vad.errors import DataError

_UCSD_LINE = re.compile(r"gt_frame\s*=\s*\[([^\]]*)\]")
_UCSD_RANGE = re.compile(r"(\d+)\s*:\s*(\d+)|(\d+)")


def ranges_to_labels(ranges: list[tuple[int, int]], n_frames: int, where: str) -> np.ndarray:
    """Per-frame labels from 1-based inclusive ``(start, end)`` ranges."""
    labels = np.zeros(n_frames, dtype=np.uint8)
    for start, end in ranges:
        if not 1 <= start <= end <= n_frames:
            raise DataError(
                f"{where}: anomaly range [{start}:{end}] outside the video's {n_frames} frames"
            )
        labels[start - 1 : end] = 1
    return labels


def load_mat(path: Path, key: str) -> object:
    """A variable of a MATLAB file, with an error naming the file when it is absent."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: ground-truth file not found")
    try:
        content = scipy.io.loadmat(str(path))
    except Exception as exc:  # scipy raises several types for corrupt files
        raise DataError(f"{path}: cannot read MATLAB file ({exc})") from exc
    if key not in content:
        keys = sorted(k for k in content if not k.startswith("__"))
        raise DataError(f"{path}: no variable {key!r} in MATLAB file (has {keys})")
    return content[key]


def read_mat_ranges(path: Path, key: str = "gt") -> list[list[tuple[int, int]]]:
    """Ranges per video from a ``gt`` cell array of 2xK [start; end] matrices (FFP/MNAD format)."""
    cell = np.asarray(load_mat(path, key), dtype=object).ravel()
    videos = []
    for i, entry in enumerate(cell):
        arr = np.asarray(entry).astype(np.int64)
        if arr.size % 2:
            raise DataError(
                f"{path}: entry {i + 1} of {key!r} is not a list of [start; end] ranges"
            )
        if arr.ndim == 1:
            arr = arr.reshape(-1, 2).T
        elif arr.shape[0] != 2:
            arr = arr.T  # K x 2 layout
        videos.append([(int(s), int(e)) for s, e in zip(arr[0], arr[1], strict=True)])
    return videos


def read_ucsd_m(path: Path) -> list[list[tuple[int, int]]]:
    """Ranges per test video from the official ``UCSDpedN.m`` (``gt_frame = [61:180];``)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: ground-truth file not found")
    videos = []
    for line in path.read_text(errors="replace").splitlines():
        match = _UCSD_LINE.search(line.split("%", 1)[0])  # MATLAB comments start with %
        if not match:
            continue
        ranges = []
        for start, end, single in _UCSD_RANGE.findall(match.group(1)):
            ranges.append((int(start), int(end)) if start else (int(single), int(single)))
        videos.append(ranges)
    if not videos:
        raise DataError(f"{path}: no 'gt_frame = [...]' entries found")
    return videos


def labels_from_masks(mask_files: list[Path]) -> np.ndarray:
    """A frame is anomalous when any pixel of its mask is set."""
    labels = np.zeros(len(mask_files), dtype=np.uint8)
    for i, file in enumerate(mask_files):
        labels[i] = bool(read_mask_image(file).any())
    return labels


def labels_from_vol_label(path: Path, key: str = "volLabel") -> np.ndarray:
    """Avenue ``N_label.mat``: a 1xT cell of HxW masks; anomalous when any pixel is set."""
    cell = np.asarray(load_mat(path, key), dtype=object).ravel()
    return np.array([bool(np.asarray(mask).any()) for mask in cell], dtype=np.uint8)


def read_npy_labels(path: Path) -> np.ndarray:
    """Frame labels stored as a 1-D ``.npy`` array (may hold several videos, concatenated)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: ground-truth file not found")
    try:
        labels = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise DataError(f"{path}: cannot read .npy labels ({exc})") from exc
    labels = np.asarray(labels).ravel()
    if labels.size and not np.isin(labels, (0, 1)).all():
        raise DataError(f"{path}: labels must be 0 or 1")
    return labels.astype(np.uint8)


def split_concatenated(labels: np.ndarray, lengths: list[int], path: Path) -> list[np.ndarray]:
    """Split labels concatenated over videos (in video order) into one array per video."""
    if len(labels) != sum(lengths):
        raise DataError(
            f"{path}: {len(labels)} labels but the test videos have {sum(lengths)} frames in total"
        )
    return np.split(labels, np.cumsum(lengths)[:-1])


def read_labels_csv(path: Path) -> dict[str, pd.DataFrame]:
    """``video,frame,label`` rows grouped by video id (video ids are read as strings)."""
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype={"video": str, "frame": str, "label": str})
    except Exception as exc:
        raise DataError(f"{path}: cannot read labels CSV ({exc})") from exc
    missing = {"video", "frame", "label"} - set(table.columns)
    if missing:
        raise DataError(f"{path}: labels CSV lacks column(s) {sorted(missing)}")
    empty = table[["video", "frame", "label"]].isna().any(axis=1).to_numpy()
    if empty.any():
        lines = (np.flatnonzero(empty) + 2).tolist()
        raise DataError(
            f"{path}: labels CSV has empty video, frame or label cells on line(s) {lines[:8]}"
        )
    table["frame"] = _integers(table["frame"], path, "frame", "a frame id (an integer >= 0)")
    table["label"] = _integers(table["label"], path, "label", "0 or 1", allowed=(0, 1))
    return {video: rows for video, rows in table.groupby("video", sort=False)}


def _integers(
    column: pd.Series, path: Path, name: str, expected: str, allowed: tuple[int, ...] = ()
) -> pd.Series:
    """``column`` as int64 when every cell is an integer (>= 0, or in ``allowed``); else a
    DataError naming the file, the line and the value (never a silent truncation)."""
    values = pd.to_numeric(column.str.strip(), errors="coerce")
    bad = values.isna() | (values != values.round()) | (values < 0)
    if allowed:
        bad |= ~values.isin(allowed)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{path}: line {row + 2}: {name} {column.iloc[row]!r} is not {expected}"
            f" ({int(bad.sum())} such row(s))"
        )
    return values.astype(np.int64)


def align_csv_labels(
    by_video: dict[str, pd.DataFrame], video: str, frame_ids: np.ndarray, path: Path
) -> np.ndarray:
    """Labels for ``frame_ids`` from a labels CSV; each frame of the video must be labelled once."""
    if video not in by_video:
        raise DataError(f"{path}: no labels for test video {video!r}")
    rows = by_video[video]
    if rows["frame"].duplicated().any():
        raise DataError(f"{path}: video {video!r} has duplicate frame rows")
    lookup = pd.Series(rows["label"].to_numpy(), index=rows["frame"].astype(np.int64))
    missing = np.setdiff1d(frame_ids, lookup.index.to_numpy())
    if missing.size:
        raise DataError(
            f"{path}: video {video!r} lacks labels for {missing.size} frames "
            f"(first: {missing[:5].tolist()})"
        )
    extra = np.setdiff1d(lookup.index.to_numpy(), frame_ids)
    if extra.size:
        raise DataError(
            f"{path}: video {video!r} has labels for frames it does not have ({extra[:5].tolist()})"
        )
    return lookup.loc[frame_ids].to_numpy().astype(np.uint8)
