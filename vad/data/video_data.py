"""The dataset of a run: its table of videos, splits, frame cache, clips and loaders (no Lightning:
``vad.data.datamodule`` wraps it for the Trainer)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from torch.utils.data import DataLoader

from vad.data import modalities as modality_registry
from vad.data.batch import collate_clips
from vad.data.cache import CachedVideo, FrameCache
from vad.data.clips import ClipDataset, VideoBatchSampler
from vad.data.layouts.layout import Layout
from vad.data.sources import open_source
from vad.data.stages import FrameStage
from vad.errors import DataError
from vad.utils.console import progress
from vad.utils.sizes import image_hw

log = logging.getLogger(__name__)
SAMPLINGS = ("clips", "videos")


class VideoData:
    """A dataset as vad reads it: train on normal videos, validate on a few held-out normal
    videos, test/predict on the rest.

    Args:
        layout: the dataset adapter that lists the videos, or a factory (Hydra ``_partial_``)
            called with ``root``.
        root: the dataset folder, for a layout factory.
        image_size: (height, width) frames are resized to, one int for square frames, or
            ``native``: the size of the first training video's frames (no resize).
        channels: 1 (grey) or 3 (RGB).
        cache_dir: where decoded, preprocessed and resized frames are cached.
        val_videos: number of training videos held out for validation (the last ones in order),
            or a list of their ids; 0 disables validation.
        stages: preprocessing stages run when the cache is built.
        train_stride / eval_stride: step between consecutive clip starts.
        resize: ``area`` | ``bilinear``, the filter frames are resized with (``FrameCache``).
        sampling: ``clips`` (every training clip once per epoch, shuffled) or ``videos`` (each
            batch takes one random clip from each of ``batch_size`` different videos, so short
            videos weigh as much as long ones; an epoch has as many clips as ``clips``).
        flow: settings of the ``flow`` modality (``vad.data.flow``), built for models that ask
            for it; a changed setting rebuilds the stored flow.
        regions: settings of the ``boxes`` modality (motion regions, ``vad.data.regions``).
        scenes: scene numbers whose videos are kept (``layout.select_scenes``: ShanghaiTech);
            None keeps every video; a layout without scenes refuses a selection.
    """

    def __init__(
        self,
        layout: Layout | Callable[..., Layout],
        image_size: Sequence[int] | int,
        channels: int,
        cache_dir: str | Path,
        root: str | Path | None = None,
        batch_size: int = 8,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        val_videos: int | Sequence[str] = 2,
        train_stride: int = 1,
        eval_stride: int = 1,
        stages: Sequence[FrameStage] = (),
        pin_memory: bool = False,
        cache_workers: int = 2,
        flow: Mapping[str, Any] | None = None,
        resize: str = "area",
        sampling: str = "clips",
        regions: Mapping[str, Any] | None = None,
        scenes: Sequence[int] | int | None = None,
    ) -> None:
        super().__init__()
        if sampling not in SAMPLINGS:
            raise DataError(f"data.sampling={sampling!r} is unknown (choose from {SAMPLINGS})")
        self.layout = layout if isinstance(layout, Layout) else layout(root=root)
        self._table: pd.DataFrame | None = None
        if scenes is not None:  # a layout given with its scenes selected keeps them
            self.layout.select_scenes(scenes)
        if image_size == NATIVE:
            image_size = native_size(self.table, channels, self.layout.root)
        #: (height, width) of the cached frames (``native``: the first training video's)
        self.image_size = image_hw(image_size)
        self.cache = FrameCache(cache_dir, image_size, channels, stages, cache_workers, resize)
        self.sampling = sampling
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size or batch_size
        self.num_workers, self.pin_memory = num_workers, pin_memory
        self.val_videos, self.train_stride, self.eval_stride = val_videos, train_stride, eval_stride
        self.clip_length: int | None = None
        self.modalities: tuple[str, ...] = ("frames",)
        self.pseudo_anomaly: dict[str, Any] = {}
        self._videos: dict[str, list[CachedVideo]] = {}
        self.modality_settings = {
            "flow": modality_registry.check_settings("flow", flow),
            "boxes": modality_registry.check_settings("boxes", regions),
        }

    def configure_clips(
        self,
        length: int,
        modalities: Sequence[str] = ("frames",),
        pseudo_anomaly: Mapping[str, Any] | None = None,
    ) -> None:
        """Set the clip length and modalities a model needs (called before fit/predict), and
        its skip-frame pseudo-anomalies of training clips (``{"probability", "skips"}``)."""
        self.clip_length, self.modalities = int(length), tuple(modalities)
        self.pseudo_anomaly = dict(pseudo_anomaly or {})

    @property
    def table(self) -> pd.DataFrame:
        if self._table is None:
            self._table = self.layout.videos()
        return self._table

    def split_table(self, split: str) -> pd.DataFrame:
        """Rows of ``train``, ``val`` (held-out normal videos) or ``test``."""
        train = self.table[self.table["split"] == "train"]
        held_out = self._held_out(train)
        if split == "train":
            return train[~train["video"].isin(held_out)]
        if split == "val":
            return train[train["video"].isin(held_out)]
        if split == "test":
            return self.table[self.table["split"] == "test"]
        raise ValueError(f"unknown split {split!r}")

    def _held_out(self, train: pd.DataFrame) -> list[str]:
        ids = train["video"].tolist()
        if not ids:  # a test-only dataset (scored with a trained model): nothing to hold out
            return []
        if isinstance(self.val_videos, str):
            self.val_videos = [self.val_videos]
        if isinstance(self.val_videos, int):
            if self.val_videos >= len(ids):
                raise DataError(
                    f"{self.layout.root}: val_videos={self.val_videos} leaves no "
                    f"training video (there are {len(ids)})"
                )
            return ids[len(ids) - self.val_videos :] if self.val_videos > 0 else []
        unknown = set(map(str, self.val_videos)) - set(ids)
        if unknown:
            raise DataError(
                f"{self.layout.root}: val_videos {sorted(unknown)} are not training videos"
            )
        return [str(v) for v in self.val_videos]

    def videos(self, split: str) -> list[CachedVideo]:
        """Cached videos of a split (built on first use)."""
        if split not in self._videos:
            table = self.split_table(split)
            self.cache.fit_stages(self.table[self.table["split"] == "train"])
            videos = self.cache.load_all(table) if len(table) else []
            extra = [name for name in self.modalities if name != "frames"]
            what = f"{split} videos: {', '.join(extra)}"
            for video in progress(videos, len(videos) if extra else 0, what):
                for name in self.modalities:
                    modality_registry.ensure(video, name, self.modality_settings.get(name))
            self._videos[split] = videos
        return self._videos[split]

    def prepare_data(self) -> None:
        """Build the cache once (on the main process) before workers or ranks read it."""
        for split in ("train", "val", "test"):
            self.videos(split)

    def dataset(self, split: str) -> ClipDataset:
        if self.clip_length is None:
            raise RuntimeError("configure_clips() must be called before the data is used")
        stride = self.train_stride if split == "train" else self.eval_stride
        pseudo = self.pseudo_anomaly if split == "train" else {}
        dataset = ClipDataset(
            self.videos(split),
            self.clip_length,
            stride,
            self.modalities,
            pseudo.get("skips", ()),
            float(pseudo.get("probability", 0.0)),
        )
        if split == "train" and not len(self.split_table("train")):
            raise DataError(
                f"{self.layout.root}: no training videos to train on (a test-only dataset, e.g. "
                "data.layout.train_dir=null, is scored with predict.py ckpt_path=<run>)"
            )
        if split in ("train", "test") and len(dataset) == 0:
            raise DataError(
                f"{self.layout.root}: no {split} clip of {self.clip_length} consecutive "
                "frames (videos too short or too many gaps)"
            )
        return dataset

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        dataset = self.dataset(split)
        batch_size = self.batch_size if shuffle else self.eval_batch_size
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=shuffle,
            drop_last=shuffle and len(dataset) > batch_size,
            num_workers=self.num_workers,
            collate_fn=collate_clips,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        if self.sampling == "clips":
            return self._loader("train", shuffle=True)
        dataset = self.dataset("train")
        return DataLoader(
            dataset,
            batch_sampler=VideoBatchSampler(dataset.index[:, 0], self.batch_size),
            num_workers=self.num_workers,
            collate_fn=collate_clips,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,
        )

    def val_dataloader(self) -> DataLoader | list:
        return self._loader("val", shuffle=False) if len(self.split_table("val")) else []

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)


#: ``data.image_size`` that keeps the frames' own size
NATIVE = "native"


def native_size(table: pd.DataFrame, channels: int, root: object) -> tuple[int, int]:
    """(height, width) of the first frame of the first training video (else the first video)."""
    if table.empty:
        raise DataError(f"{root}: data.image_size=native needs a video to read the size from")
    train = table[table["split"] == "train"]
    source = (train if len(train) else table)["source"].iloc[0]
    _, frame = next(iter(open_source(source).iter_frames(channels)), (None, None))
    if frame is None:
        raise DataError(f"{source}: no frame to read data.image_size=native from")
    return int(frame.shape[0]), int(frame.shape[1])
