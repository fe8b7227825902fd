"""``ClipBatch``: the one type a batch of clips has, from the data loader to the scorer.

The loader collates ``ClipDataset`` items (dicts of one clip) into a ``ClipBatch``; the model's
``on_after_batch_transfer`` turns its uint8 images into float on the device, and models, the
object-crop and pseudo-anomaly components and the scorer read its fields by name. A modality
registered outside the built-in ones (``vad.data.modalities.register_modality``) travels in
``extra``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import default_collate

__all__ = ["IMAGE_FIELDS", "ClipBatch", "collate_clips", "images_to_float"]

#: per-frame arrays that hold images (uint8 -> [-1, 1] on the device); others only become float
IMAGE_FIELDS = ("frames", "skip_frames")


@dataclass
class ClipBatch:
    """B clips of L frames. Images are uint8 (B, L, H, W, C) as loaded and float (B, L, C, H, W)
    in [-1, 1] after ``VADModule.on_after_batch_transfer``.

    Attributes:
        frames: the clips' frames.
        video: the video of each clip (B names).
        frame_ids: (B, L) int64 original frame ids.
        flow: optical flow, (B, L, H, W, 2) as loaded, channels-first float after transfer.
        boxes: (B, L, K, 4) motion boxes, x0, y0, x1, y1 in [0, 1], NaN rows for no box.
        masks: per-pixel ground truth of test clips.
        skip, skip_frames, skip_ids: skip-frame pseudo-anomalies (``vad.data.clips``): the frame
            step of each clip (0: none), the skipped clip and its ids.
        targets: the frames a model's outputs must match when ``frames`` is a pseudo-anomalous
            input (``vad.models.skip_frames``); None: the frames themselves.
        object_empty, object_box: after object cropping (``vad.models.object_crops``), whether
            each crop is the empty crop of a clip without boxes, and its (N, 4) box.
        extra: arrays of modalities registered outside the built-in ones.
    """

    frames: torch.Tensor
    video: list[str]
    frame_ids: torch.Tensor
    flow: torch.Tensor | None = None
    boxes: torch.Tensor | None = None
    masks: torch.Tensor | None = None
    skip: torch.Tensor | None = None
    skip_frames: torch.Tensor | None = None
    skip_ids: torch.Tensor | None = None
    targets: torch.Tensor | None = None
    object_empty: torch.Tensor | None = None
    object_box: torch.Tensor | None = None
    extra: dict[str, torch.Tensor] = field(default_factory=dict)

    @classmethod
    def of(cls, batch: ClipBatch | Mapping[str, Any]) -> ClipBatch:
        """A ``ClipBatch`` from a collated mapping (unknown keys go to ``extra``), or itself."""
        if isinstance(batch, ClipBatch):
            return batch
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        missing = {"frames", "video", "frame_ids"} - set(batch)
        if missing:
            raise KeyError(f"a clip batch needs {sorted(missing)}; got {sorted(batch)}")
        known = {k: v for k, v in batch.items() if k in names}
        extra = {k: v for k, v in batch.items() if k not in names}
        known["video"] = list(known["video"])
        return cls(**known, extra=extra)

    def __len__(self) -> int:
        return len(self.video)

    @property
    def clip_targets(self) -> torch.Tensor:
        """The frames the outputs must match: ``targets`` if set, else the frames."""
        return self.frames if self.targets is None else self.targets

    def modality(self, name: str) -> torch.Tensor:
        """The array of a modality by name (``frames``, ``flow``, ``boxes`` or a registered one);
        a clear error when the batch does not carry it."""
        value = getattr(self, name, None) if name != "extra" else None
        value = self.extra.get(name) if value is None else value
        if value is None:
            raise KeyError(f"this clip batch carries no {name!r} (has {sorted(self.arrays())})")
        return value

    def arrays(self) -> dict[str, torch.Tensor]:
        """Every tensor the batch carries, by name (``extra`` ones included)."""
        out = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if torch.is_tensor(getattr(self, f.name))
        }
        return {**out, **self.extra}

    def replace(self, **changes: Any) -> ClipBatch:
        """A copy with some fields changed (``extra`` arrays by their names too)."""
        own = {k: v for k, v in changes.items() if k in self.__dataclass_fields__}
        extra = {**self.extra, **{k: v for k, v in changes.items() if k not in own}}
        return dataclasses.replace(self, **own, extra=extra)

    def map_arrays(self, fn: Callable[[str, torch.Tensor], torch.Tensor]) -> ClipBatch:
        """A copy whose tensors are ``fn(name, tensor)``."""
        return self.replace(**{k: fn(k, v) for k, v in self.arrays().items()})

    def to(self, device: torch.device | str, non_blocking: bool = False) -> ClipBatch:
        return self.map_arrays(lambda _, v: v.to(device, non_blocking=non_blocking))

    def pin_memory(self) -> ClipBatch:
        return self.map_arrays(lambda _, v: v.pin_memory())

    def select(self, index: torch.Tensor, per_frame: Callable | None = None) -> ClipBatch:
        """The batch of clips ``index`` (repeats allowed): per-clip tensors and ``video`` are
        indexed; ``per_frame(tensor)`` instead, when given, maps the 5-D per-frame arrays."""
        clips = len(self)

        def pick(_: str, value: torch.Tensor) -> torch.Tensor:
            if value.ndim == 0 or value.shape[0] != clips:
                return value
            if per_frame is not None and value.ndim == 5:
                return per_frame(value[index])
            return value[index]

        selected = self.map_arrays(pick)
        selected.video = [self.video[i] for i in index.tolist()]
        return selected


def collate_clips(items: Sequence[Mapping[str, Any]]) -> ClipBatch:
    """The loader's ``collate_fn``: ``ClipDataset`` items -> one ``ClipBatch``."""
    return ClipBatch.of(default_collate(list(items)))


def images_to_float(batch: ClipBatch) -> ClipBatch:
    """uint8 (B, L, H, W, C) images -> float (B, L, C, H, W) in [-1, 1]; other per-frame arrays
    of five dimensions (e.g. flow) only become channels-first float."""

    def convert(name: str, value: torch.Tensor) -> torch.Tensor:
        if value.ndim != 5:
            return value
        value = value.permute(0, 1, 4, 2, 3).float()
        return value / 127.5 - 1 if name in IMAGE_FIELDS else value

    return batch.map_arrays(convert)
