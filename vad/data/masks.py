"""Per-pixel ground truth: where a test frame shows an anomaly (the ``masks`` modality).

The ``masks`` column of the video table is the path of a mask source, or None:

    a folder of images   one per frame, in natural order (UCSD ``TestNNN_gt/*.bmp``, whose Test006,
                         009 and 012 name them ``frameNNN.bmp``; the frames layout's
                         ``testing/masks/NN/NNN.png``)
    ``.npy``             a (T, H, W) array (ShanghaiTech ``test_pixel_mask/SS_VVVV.npy``)
    ``.mat``             Avenue's ``volLabel``: a 1xT cell of HxW masks

Any non-zero pixel is anomalous. Masks are counted when the layout is read (a count that differs
from the video's frames is an error naming both), and resized with the frames (nearest neighbour)
into the cache as ``masks.npy``: uint8 (N, H, W) of 0 / 1 per cached frame (a frame a stage
interpolated, which is never scored, gets an empty mask).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from vad.data.frame_decoding import read_mask_image
from vad.data.labels import load_mat
from vad.data.sources import is_frame_file
from vad.errors import DataError
from vad.utils.sorting import natural_key

if TYPE_CHECKING:
    from vad.data.cache import CachedVideo

VERSION = 1


def mask_files(folder: Path) -> list[Path]:
    """The mask images of a folder, in natural order."""
    return sorted(
        (p for p in folder.iterdir() if is_frame_file(p)), key=lambda p: natural_key(p.name)
    )


def mask_count(path: str | Path) -> int:
    """How many frames a mask source covers (read without decoding images)."""
    path = Path(path)
    if path.is_dir():
        return len(mask_files(path))
    if path.suffix == ".npy":
        return _npy(path).shape[0]
    if path.suffix == ".mat":
        return len(_vol_label(path))
    raise DataError(f"{path}: not a mask source (a folder of images, a .npy or a .mat volLabel)")


def check_masks(path: str | Path, frames: int, video: str) -> str:
    """``path`` as a string when it holds one mask per frame of ``video``; else a DataError."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: pixel mask of test video {video!r} not found")
    count = mask_count(path)
    if count != frames:
        raise DataError(f"{path}: {count} masks but test video {video!r} has {frames} frames")
    return str(path)


def read_masks(path: str | Path) -> Iterator[np.ndarray]:
    """The masks of a source, one bool (H, W) array per frame."""
    path = Path(path)
    if path.is_dir():
        for file in mask_files(path):
            yield read_mask_image(file)
    elif path.suffix == ".npy":
        volume = _npy(path)
        for mask in volume:
            yield np.asarray(mask) > 0
    else:
        for mask in _vol_label(path):
            yield np.asarray(mask) > 0


def mask_settings(given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The mask source and its signature (a changed source rebuilds the cached masks)."""
    source = (given or {}).get("source")
    if not source:
        raise DataError("the masks modality needs a mask source (the video has no pixel masks)")
    return {"source": str(source), "signature": _signature(Path(source))}


def build_masks(video: CachedVideo, settings: Mapping[str, Any]) -> np.ndarray:
    """uint8 (N, H, W) 0 / 1 masks of the cached frames, resized (nearest) to the frame size."""
    height, width = video.frames.shape[1:3]
    position = {int(f): i for i, f in enumerate(video.frame_ids)}
    out = np.zeros((len(video), height, width), dtype=np.uint8)
    source = settings["source"]
    for frame_id, mask in zip(video.source_ids, read_masks(source), strict=False):
        if int(frame_id) in position:
            out[position[int(frame_id)]] = resize_mask(mask, (height, width))
    return out


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A bool mask as uint8 0 / 1 at ``size`` (height, width), nearest neighbour."""
    mask = np.asarray(mask, dtype=np.uint8)
    if mask.shape == tuple(size):
        return mask
    return cv2.resize(mask, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)


def _npy(path: Path) -> np.ndarray:
    try:
        volume = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:
        raise DataError(f"{path}: cannot read mask array ({exc})") from exc
    if volume.ndim != 3:
        raise DataError(
            f"{path}: pixel masks must be a (frames, height, width) array, got {volume.shape}"
        )
    return volume


def _vol_label(path: Path) -> np.ndarray:
    return np.asarray(load_mat(path, "volLabel"), dtype=object).ravel()


def _signature(path: Path) -> list:
    files = mask_files(path) if path.is_dir() else [path]
    stats = [os.stat(f) for f in files]
    return [
        len(files),
        sum(s.st_size for s in stats),
        max((s.st_mtime_ns for s in stats), default=0),
    ]
