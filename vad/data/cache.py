"""The frame cache: decode each video once, run the preprocessing stages, resize, store uint8.

Each video becomes a folder ``<cache_dir>/<key>/`` holding ``frames.npy`` (N, H, W, C) uint8, read
back memory-mapped, and ``meta.json`` (frame ids and per-frame notes from the stages). The key is a
hash of the source's content signature (file names, sizes, modification times) and of every setting
that changes the stored pixels, so a changed setting or source builds a new entry. Entries are built
in a temporary folder and renamed into place; a damaged entry (e.g. a truncated ``.npy``) is
detected when opened and rebuilt.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from vad.data.sources import open_source
from vad.data.stages import Frame, FrameStage
from vad.errors import DataError
from vad.io.atomic import atomic_folder, write_json
from vad.io.npy import NpyStreamWriter
from vad.utils.console import progress
from vad.utils.hashing import stable_hash
from vad.utils.sizes import image_hw

log = logging.getLogger(__name__)
CACHE_VERSION = 1
#: how frames are resized into the cache (``data.resize``)
RESIZE_FILTERS = ("area", "bilinear")


@dataclass
class CachedVideo:
    """A cached video: its frames (memory-mapped on first use), their ids and per-frame notes.

    ``frame_ids`` are the ids of the stored frames; ``source_ids``, ``labels`` and ``masks`` are
    the video's own frames, labels and pixel-mask source from the video table (a stage that
    interpolates a missing frame stores a frame the source does not have; it is used as model
    input but never scored).
    """

    split: str
    video: str
    source: str
    folder: Path
    frame_ids: np.ndarray
    source_ids: np.ndarray
    labels: np.ndarray | None
    info: pd.DataFrame
    _arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    #: the video's pixel-mask source (``vad.data.masks``), or None
    masks: str | None = None

    @property
    def frames(self) -> np.ndarray:
        return self.array("frames")

    def array(self, name: str) -> np.ndarray:
        """A per-frame array stored beside the frames as ``<name>.npy`` (``frames``, ``flow``...),
        memory-mapped on first use."""
        if name not in self._arrays:
            self._arrays[name] = np.load(self.folder / f"{name}.npy", mmap_mode="r")
        return self._arrays[name]

    def __len__(self) -> int:
        return len(self.frame_ids)

    def __getstate__(self) -> dict:  # memory maps are reopened in each worker process
        return {**self.__dict__, "_arrays": {}}


class FrameCache:
    """Builds and opens cached videos for one (size, channels, stages) setting."""

    def __init__(
        self,
        cache_dir: str | Path,
        image_size: Sequence[int],
        channels: int,
        stages: Sequence[FrameStage] = (),
        workers: int = 2,
        resize: str = "area",
    ) -> None:
        if channels not in (1, 3):
            raise DataError(f"channels must be 1 (grey) or 3 (RGB), got {channels}")
        if resize not in RESIZE_FILTERS:
            raise DataError(
                f"data.resize={resize!r} is unknown (choose from {list(RESIZE_FILTERS)})"
            )
        self.cache_dir = Path(cache_dir).expanduser()
        self.height, self.width = _size(image_size)
        self.channels, self.stages, self.workers = channels, list(stages), max(1, workers)
        self.resize = resize

    def load_all(self, table: pd.DataFrame) -> list[CachedVideo]:
        """Cached videos for every row of a video table, building missing entries in parallel."""
        rows = [row for _, row in table.iterrows()]
        what = f"frame cache ({', '.join(sorted(set(table['split'])))})"
        if self.workers == 1 or len(rows) == 1:
            return list(progress(map(self.load, rows), len(rows), what))
        with ThreadPoolExecutor(self.workers) as pool:  # OpenCV decoding releases the GIL
            return list(progress(pool.map(self.load, rows), len(rows), what))

    def fit_stages(self, train: pd.DataFrame) -> None:
        """Let the stages learn from the training videos (a video table) before any is cached."""
        for stage in self.stages:
            stage.fit(train, self.cache_dir, self.channels)

    def load(self, row: pd.Series) -> CachedVideo:
        folder = self.cache_dir / self.key(row)
        video = self._open(folder, row)
        if video is None:
            self._build(folder, row)
            video = self._open(folder, row)
            if video is None:
                raise DataError(
                    f"{folder}: cache entry for {row['source']} is unreadable right "
                    "after it was built (disk full?)"
                )
        return video

    def key(self, row: pd.Series) -> str:
        source = open_source(row["source"])
        stages = [s.cache_key() for s in self.stages if s.applies_to(row["split"])]
        return stable_hash(
            {
                "version": CACHE_VERSION,
                "source": os.path.abspath(row["source"]),
                "signature": source.signature(),
                "size": [self.height, self.width],
                "channels": self.channels,
                "stages": stages,
                # keys of the default filter are those of caches built before it was a setting
                **({"resize": self.resize} if self.resize != "area" else {}),
            }
        )

    def _open(self, folder: Path, row: pd.Series) -> CachedVideo | None:
        """Open an entry, or None when it is missing or damaged (then it is rebuilt)."""
        if not folder.is_dir():
            return None
        try:
            meta = json.loads((folder / "meta.json").read_text())
            frames = np.load(folder / "frames.npy", mmap_mode="r")
            ids = np.asarray(meta["frame_ids"], dtype=np.int64)
            expected = (len(ids), self.height, self.width, self.channels)
            if frames.shape != expected or frames.dtype != np.uint8:
                raise ValueError(f"frames.npy has shape {frames.shape}, expected {expected}")
        except (OSError, EOFError, ValueError, KeyError, json.JSONDecodeError) as exc:
            log.warning(
                "cache entry %s for %s is damaged (%s); rebuilding", folder, row["source"], exc
            )
            shutil.rmtree(folder, ignore_errors=True)
            return None
        info = pd.DataFrame(meta.get("info", {}), index=pd.Index(ids, name="frame"))
        labels = row["labels"] if isinstance(row["labels"], np.ndarray) else None
        return CachedVideo(
            row["split"],
            row["video"],
            row["source"],
            folder,
            ids,
            np.asarray(row["frame_ids"]),
            labels,
            info,
            {"frames": frames},
            masks=row.get("masks") if isinstance(row.get("masks"), str) else None,
        )

    def _build(self, folder: Path, row: pd.Series) -> None:
        with atomic_folder(folder) as tmp:  # a concurrent builder's entry, if first, is kept
            self._write_entry(tmp, row)

    def _write_entry(self, folder: Path, row: pd.Series) -> None:
        ids, info = [], []
        with NpyStreamWriter(folder / "frames.npy") as writer:
            for frame in self._frames(row):
                writer.append(self._resize(frame.image))
                ids.append(frame.id)
                info.append(frame.info)
        write_json(
            {
                "video": row["video"],
                "source": str(row["source"]),
                "frame_ids": ids,
                "info": _info_columns(info),
            },
            folder / "meta.json",
        )

    def _frames(self, row: pd.Series) -> Iterator[Frame]:
        source = open_source(row["source"])
        stream: Iterator[Frame] = (Frame(i, img) for i, img in source.iter_frames(self.channels))
        for stage in self.stages:
            if stage.applies_to(row["split"]):
                stream = stage(stream, row["video"])
        return stream

    def _resize(self, image: np.ndarray) -> np.ndarray:
        return resize_frame(image, self.height, self.width, self.channels, self.resize)


def resize_frame(
    image: np.ndarray, height: int, width: int, channels: int, resize: str = "area"
) -> np.ndarray:
    """A decoded frame as stored in the cache: (height, width, channels) uint8. ``resize="area"``
    averages areas when shrinking (bilinear when enlarging); ``"bilinear"`` always interpolates
    bilinearly, as most VAD code does (sharper small objects, some aliasing)."""
    h, w = image.shape[:2]
    if (h, w) != (height, width):
        shrink = h * w > height * width
        interpolation = cv2.INTER_AREA if shrink and resize == "area" else cv2.INTER_LINEAR
        image = cv2.resize(image, (width, height), interpolation=interpolation)
    return image.reshape(height, width, channels)


def _size(image_size: Sequence[int] | int) -> tuple[int, int]:
    """(height, width) of ``data.image_size`` (one integer: a square), both positive integers."""
    return image_hw(image_size)


def _info_columns(info: list[dict]) -> dict[str, list]:
    """Per-frame notes as columns; frames without a note get None."""
    names = sorted({k for item in info for k in item})
    return {name: [item.get(name) for item in info] for name in names}
