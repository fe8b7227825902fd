"""Per-pixel anomaly maps of test videos with pixel masks: collected while scoring, stored, and
evaluated against the masks (``vad.scoring.pixel_metrics``).

``MapWriter`` is a prediction callback beside the score writer: every batch's ``Prediction``
gives one map per output frame (``Prediction.error_maps``: squared errors, or a model's own map),
maps of clips (or object crops) that cover the same frame are combined as the scores are
(``scoring.aggregate``: mean or max), frames no clip scored take the map of the
nearest scored frame (as their scores do), and each video's maps are written to
``pixel_maps/<video>.npy`` (T, H, W) in the order of its frames (float16, float32 when a value
does not fit). ``evaluate_maps`` pairs them with the cached masks (maps resized to the mask size
when the model's output is smaller), smooths each map with a Gaussian (as anomalib smooths its
anomaly maps before pixel metrics: sigma 4 for 256-pixel maps, here scaled to the map's width)
and returns the localisation metrics. The stored maps stay raw.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import BasePredictionWriter

from vad.data import modalities
from vad.data.cache import CachedVideo
from vad.errors import ScoreFileError
from vad.io.atomic import atomic_path
from vad.models.base import Prediction
from vad.scoring.assemble import nearest_scored
from vad.scoring.localisation_metrics import pixel_metrics
from vad.scoring.scorer import frame_maps

log = logging.getLogger(__name__)
MAPS_DIR = "pixel_maps"
#: the model's squared error (or own) map; other maps (``region``) are evaluated with a prefix
ERROR = "error"
_FLOAT16_MAX = 6.0e4


class MapWriter(BasePredictionWriter):
    """Collects the maps of ``videos`` that have pixel masks; writes them when prediction ends."""

    def __init__(
        self, output_dir: str | Path, videos: Sequence[CachedVideo], aggregate: str = "mean"
    ) -> None:
        super().__init__(write_interval="batch")
        self.aggregate = aggregate  # mean | max over the maps of a frame (clips, objects)
        self.folder = Path(output_dir) / MAPS_DIR
        self.videos = {v.video: v for v in videos if v.masks}
        self._position = {
            v.video: {int(f): i for i, f in enumerate(v.source_ids)} for v in self.videos.values()
        }
        self._sums: dict[tuple[str, str], np.ndarray] = {}  # (map name, video) -> maps
        self._counts: dict[tuple[str, str], np.ndarray] = {}

    def write_on_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        prediction: Prediction,
        batch_indices: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        if not any(video in self.videos for video in prediction.video):
            return
        for name, maps in pixel_maps(pl_module, prediction).items():
            for video, frame_id, values in frame_maps(prediction, maps):
                position = self._position.get(video, {}).get(frame_id)
                if position is not None:
                    self._add((name, video), position, values.detach().float().cpu().numpy())

    def _add(self, key: tuple[str, str], position: int, values: np.ndarray) -> None:
        if key not in self._sums:
            frames = len(self.videos[key[1]].source_ids)
            self._sums[key] = np.zeros((frames, *values.shape), dtype=np.float32)
            self._counts[key] = np.zeros(frames, dtype=np.int32)
        if self.aggregate == "max" and self._counts[key][position]:
            np.maximum(self._sums[key][position], values, out=self._sums[key][position])
        else:
            self._sums[key][position] += values
        self._counts[key][position] += 1

    def on_predict_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.world_size > 1:
            log.warning("pixel maps are not collected across %d processes", trainer.world_size)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, video in self._sums:
            folder = map_folder(self.folder, name)
            folder.mkdir(exist_ok=True)
            write_maps(self._maps((name, video)), folder / f"{video}.npy")
        self._sums.clear()
        self._counts.clear()

    def _maps(self, key: tuple[str, str]) -> np.ndarray:
        """A video's maps: clip average, frames without a clip filled from the nearest."""
        counts = self._counts[key]
        scored = np.flatnonzero(counts)
        maps = self._sums[key][scored]
        if self.aggregate == "mean":
            maps = maps / counts[scored, None, None]
        ids = np.asarray(self.videos[key[1]].source_ids)
        return maps[nearest_scored(ids[scored], ids)]


def pixel_maps(model: L.LightningModule, out: Prediction) -> dict[str, torch.Tensor]:
    """The model's named maps (B, P, H, W); a model without ``pixel_maps`` gives its error map."""
    if hasattr(model, "pixel_maps"):
        return model.pixel_maps(out)
    return {ERROR: out.error_maps()}


def map_folder(folder: Path, name: str) -> Path:
    """Where maps called ``name`` are stored: the error map in ``folder``, others beside it in
    ``folder/<name>``."""
    return folder if name == ERROR else folder / name


def map_names(folder: Path) -> list[str]:
    """The names of the maps stored under ``folder`` (the error map first)."""
    others = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return [ERROR, *others]


def write_maps(maps: np.ndarray, path: Path) -> None:
    """``maps`` as float16 (float32 when a value exceeds float16's range), atomically."""
    big = np.abs(maps).max(initial=0.0) > _FLOAT16_MAX
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, maps.astype(np.float32 if big else np.float16))


def stored_maps(folder: Path, videos: Sequence[CachedVideo]) -> Iterator[tuple[str, np.ndarray]]:
    """``(video, maps)`` of every video with masks, from ``folder``; a missing or mis-sized file
    is an error naming it."""
    for video in videos:
        if not video.masks:
            continue
        path = folder / f"{video.video}.npy"
        try:
            maps = np.load(path, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise ScoreFileError(f"{path}: cannot read the pixel maps ({exc})") from exc
        if maps.ndim != 3 or len(maps) != len(video.source_ids):
            raise ScoreFileError(
                f"{path}: maps of shape {maps.shape} for video {video.video!r} "
                f"of {len(video.source_ids)} frames"
            )
        yield video.video, maps


def video_masks(video: CachedVideo) -> np.ndarray:
    """bool (T, H, W) masks of the video's own frames, at the cached frame size."""
    modalities.ensure(video, "masks", {"source": video.masks})
    masks = video.array("masks")
    keep = np.isin(np.asarray(video.frame_ids), np.asarray(video.source_ids))
    return np.asarray(masks[keep]) > 0


def evaluate_maps(
    folder: str | Path, videos: Sequence[CachedVideo], sigma: float = 4.0, name: str = ERROR
) -> Mapping[str, float] | None:
    """Localisation metrics of the stored maps called ``name`` of ``videos`` (None when no video
    has masks); ``sigma``: Gaussian smoothing in pixels of a 256-pixel-wide map (0 = none)."""
    by_name = {v.video: v for v in videos}
    triples = []
    for video, maps in stored_maps(map_folder(Path(folder), name), videos):
        masks = video_masks(by_name[video])
        maps = resize_maps(np.asarray(maps, np.float32), masks.shape[1:])
        triples.append((video, smooth_maps(maps, sigma * maps.shape[2] / 256), masks))
    if not triples:
        return None
    return pixel_metrics(triples)


def resize_maps(maps: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """(T, h, w) maps at (T, H, W) (bilinear), unchanged when the sizes agree."""
    height, width = int(size[0]), int(size[1])
    if maps.shape[1:] == (height, width):
        return maps
    return np.stack([cv2.resize(m, (width, height), interpolation=cv2.INTER_LINEAR) for m in maps])


def smooth_maps(maps: np.ndarray, sigma: float) -> np.ndarray:
    """Every (H, W) map of (T, H, W) blurred by a Gaussian of ``sigma`` pixels (0: unchanged)."""
    if sigma <= 0:
        return maps
    return np.stack([cv2.GaussianBlur(m, (0, 0), sigma) for m in maps])
