"""Object-level density: how unlike the training objects each moving object of a frame is.

After AI-VAD (Reiss & Hoshen, 2023), offline: objects are the motion boxes of a frame (``boxes``,
HF2-VAD's frame differences), each described by attributes (``vad.models.density.features``);
an attribute's score is the mean distance to its ``k`` nearest training objects
(``vad.models.density.bank``). Nothing is trained by gradients: fitting collects the attributes of
every object of the training videos once (``on_fit_start``) and the one training epoch only marks
that step; validation measures the mean and std of every attribute's score on the held-out
normal videos, which calibrate them.

Score columns (per frame, max over its objects): one per scored attribute, or group of attributes
scored jointly (``joint``; raw kNN distance; 0 without objects), and ``density``: the sum of the
calibrated (z-scored) scores of an object, a
frame without objects one below the lowest an object can get. ``maps`` paints each object's
``density`` above that floor inside its box.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from vad.data.batch import ClipBatch
from vad.data.flow import flow_settings
from vad.data.regions import region_settings
from vad.errors import DataError
from vad.models.base import Prediction, VADModule
from vad.models.contract import ModelContract
from vad.models.density.bank import FeatureBank, combine, empty_score
from vad.models.density.features import (
    ATTRIBUTES,
    GEOMETRY,
    ObjectFeatures,
    grouped,
    pixel_boxes,
    score_groups,
    video_features,
)
from vad.models.density.ground import ground_of
from vad.models.step_logging import log_losses

COLUMN = "density"
#: an attribute column's value for a frame without objects: the lowest distance an object can
#: have (a fixed -1 would sit an arbitrary number of the distances' units below every object, and
#: after per-video min-max and smoothing drag down the frames next to empty ones)
NO_OBJECT = 0.0


class DensityModule(VADModule):
    """kNN density of object attributes (one frame per clip: frame ``t``, its flow ``t-1 -> t``
    and its motion boxes).

    Args:
        attributes: name -> enabled, of ``velocity``, ``geometry``, ``appearance``.
        joint: enabled attributes scored by one kNN density over their concatenated features
            (a score column named by joining them with ``_``); the others are scored alone.
        k: nearest training objects whose mean distance is an attribute's score.
        velocity_bins: direction bins of the velocity histogram.
        velocity_scale: ``none`` (pixels per frame), ``height`` (box heights per frame) or
            ``ground`` (expected heights at the box's foot row per frame, ``ground.py``).
        size_scale: ``none`` (fraction of the frame) or ``ground`` (in expected heights).
        appearance_size: side of the square crops of the appearance descriptor (multiple of 8).
        flow, boxes: the data config's flow and motion-box settings the banks are built with;
            scoring data built with other settings is an error.
    """

    contract = ModelContract(
        score_column=COLUMN, modalities=("frames", "flow", "boxes"), one_pass=True
    )

    def __init__(
        self,
        image_size: Sequence[int],
        channels: int,
        attributes: Mapping[str, bool] | None = None,
        joint: Sequence[str] | None = None,
        k: int = 1,
        velocity_bins: int = 8,
        velocity_scale: str = "none",
        size_scale: str = "none",
        appearance_size: int = 32,
        geometry_features: Sequence[str] = GEOMETRY,
        flow: Mapping[str, Any] | None = None,
        boxes: Mapping[str, Any] | None = None,
        optimizer: Callable | None = None,
        **base: Any,
    ) -> None:
        super().__init__(image_size, channels, optimizer, **base)
        self.automatic_optimization = False  # one bookkeeping step per fit, no gradients
        self.k = int(k)
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        enabled = dict(attributes) if attributes is not None else dict.fromkeys(ATTRIBUTES, True)
        self.extractor = ObjectFeatures(
            enabled,
            velocity_bins=velocity_bins,
            velocity_scale=velocity_scale,
            size_scale=size_scale,
            appearance_size=appearance_size,
            geometry_features=tuple(geometry_features),
        )
        self.attributes = self.extractor.names
        self.groups = score_groups(self.attributes, joint)
        self.scores = tuple(self.groups)
        self.data_settings = {
            "flow": flow_settings(flow) if flow is not None else None,
            "boxes": region_settings(boxes) if boxes is not None else None,
        }
        self.bank = FeatureBank()
        for name in self.scores:
            self.fitted.declare(_moment(name), ())

    @property
    def clip_length(self) -> int:
        return 1

    # ---- scoring -----------------------------------------------------------------------------
    def forward(self, batch: ClipBatch) -> Prediction:
        frames = batch.frames[:, 0]  # (B, C, H, W) in [-1, 1]
        boxes = batch.modality("boxes")[:, 0]  # (B, max_boxes, 4)
        features, slots = self._features(frames, batch.modality("flow")[:, 0], boxes)
        features = grouped(features, self.groups)
        extra = {}
        for name in self.scores:
            raw = self.bank.distances(name, features[name].to(frames.device), self.k)
            extra[name] = _scatter(raw, slots, boxes.shape[:2])
        stats = self._stats()
        if stats is not None:
            extra[COLUMN] = combine({n: extra[n] for n in self.scores}, stats)
        maps = self._maps(extra, boxes, frames.shape[-2:], stats)
        return Prediction(frames, frames, positions=(0,), extra=extra, maps=maps)

    def frame_scores(self, out: Prediction) -> dict[str, torch.Tensor]:
        columns = {name: _frame_max(out.extra[name], NO_OBJECT) for name in self.scores}
        stats = self._stats()
        if stats is not None and COLUMN in out.extra:
            columns[COLUMN] = _frame_max(out.extra[COLUMN], float(empty_score(stats)))
        return columns

    def map_scores(self, out: Prediction) -> dict[str, torch.Tensor]:
        return {}  # the maps are object scores already: no location or region columns

    def losses(self, batch: ClipBatch, out: Prediction) -> dict[str, torch.Tensor]:
        return {"loss": out.pred.new_zeros(())}

    def _features(
        self, frames: torch.Tensor, flow: torch.Tensor, boxes: torch.Tensor
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Attributes (M, D) of the M objects of a batch and their (frame, slot) (M, 2)."""
        if "ground" in self.bank.meta:
            self.extractor.ground = self.bank.meta["ground"].numpy()
        images = ((frames + 1) * 127.5).round().clamp(0, 255).byte().permute(0, 2, 3, 1)
        images, flows = images.cpu().numpy(), flow.permute(0, 2, 3, 1).float().cpu().numpy()
        rows, parts = boxes.detach().cpu().numpy(), {n: [] for n in self.attributes}
        slots = []
        for b in range(len(images)):
            valid = np.flatnonzero(np.isfinite(rows[b]).all(axis=1))
            for name, values in self.extractor(images[b], flows[b], rows[b][valid]).items():
                parts[name].append(torch.from_numpy(values))
            slots += [(b, int(j)) for j in valid]
        dims = self.extractor.dims()
        features = {n: torch.cat(v) if v else torch.zeros(0, dims[n]) for n, v in parts.items()}
        return features, torch.tensor(slots, dtype=torch.long).reshape(-1, 2)

    def _stats(self) -> dict[str, tuple[torch.Tensor, torch.Tensor]] | None:
        """Validation mean and std of every attribute's score, or None before calibration."""
        if not all(self.fitted.is_fitted(_moment(n)) for n in self.scores):
            return None
        return {n: (self.fitted.mean(_moment(n)), self.fitted.std(_moment(n))) for n in self.scores}

    def _maps(
        self,
        extra: Mapping[str, torch.Tensor],
        boxes: torch.Tensor,
        size: Sequence[int],
        stats: Mapping[str, tuple[torch.Tensor, torch.Tensor]] | None,
    ) -> torch.Tensor:
        """(B, 1, H, W): each object's score above the no-object floor inside its box (max where
        boxes overlap; the sum of raw distances before calibration)."""
        if stats is not None:
            scores = extra[COLUMN] - empty_score(stats)
        else:
            scores = sum(extra[name] for name in self.scores)
        height, width = int(size[0]), int(size[1])
        maps = torch.zeros(len(boxes), 1, height, width, device=boxes.device)
        for b in range(len(boxes)):
            rows = boxes[b].detach().cpu().numpy()
            valid = np.flatnonzero(np.isfinite(rows).all(axis=1))
            for j, (x0, y0, x1, y1) in zip(
                valid, pixel_boxes(rows[valid], height, width), strict=True
            ):
                region = maps[b, 0, y0:y1, x0:x1]
                region.copy_(region.clamp_min(float(scores[b, j])))
        return maps

    # ---- fitting -----------------------------------------------------------------------------
    def on_fit_start(self) -> None:
        datamodule = self.trainer.datamodule
        self._check_data_settings()
        if not len(datamodule.split_table("val")):
            raise DataError(
                "the density model needs validation videos (data.val_videos > 0): its attribute "
                "scores are calibrated on held-out normal videos"
            )
        if not self.bank.is_fitted():
            self.fit_bank(datamodule.videos("train"))

    def fit_bank(self, videos: Sequence[Any]) -> None:
        """Collect the attributes of every object of the training ``videos`` into the banks."""
        if self.extractor.needs_ground:
            self.bank.meta["ground"] = torch.from_numpy(ground_of(videos))
            self.extractor.ground = self.bank.meta["ground"].numpy()
        parts: dict[str, list[np.ndarray]] = {name: [] for name in self.attributes}
        for video in videos:
            found = video_features(
                self.extractor, video.frames, video.array("flow"), video.array("boxes")
            )
            for name, values in found.items():
                parts[name].append(values)
        banks = grouped({n: np.concatenate(v) for n, v in parts.items()}, self.groups)
        banks = {n: torch.from_numpy(np.ascontiguousarray(v)) for n, v in banks.items()}
        if any(len(bank) == 0 for bank in banks.values()):
            raise DataError(
                "no moving object in the training videos: lower data.regions.threshold or "
                "data.regions.min_area"
            )
        self.bank.fit(banks)

    def configure_optimizers(self) -> None:
        return None

    def training_step(self, batch: ClipBatch, batch_idx: int) -> None:
        # nothing to learn from batches (``trainer.limit_train_batches=1`` suffices); a step of
        # the parameter-free optimiser counts the fit, so that checkpoints are written
        self.optimizers().step()

    def validation_step(self, batch: ClipBatch, batch_idx: int) -> None:
        out = self.predict_clips(batch)
        total = 0.0
        for name in self.scores:
            values = out.extra[name][torch.isfinite(out.extra[name])]
            if len(values):
                self.fitted.update(_moment(name), values)
            mean = values.mean() if len(values) else values.new_zeros(())
            log_losses(self, "val", {name: mean})
            total = total + mean
        log_losses(self, "val", {"loss": torch.as_tensor(total)})

    def on_predict_start(self) -> None:
        if not self.bank.is_fitted() or self._stats() is None:
            raise DataError(
                "the density model is not fitted: train it (with validation videos) or load a "
                "trained checkpoint"
            )
        self._check_data_settings()

    def _check_data_settings(self) -> None:
        built = getattr(self.trainer.datamodule, "modality_settings", {})
        for name, wanted in self.data_settings.items():
            if wanted is not None and built.get(name) is not None and built[name] != wanted:
                raise DataError(
                    f"the density banks are built on {name} {wanted}, but the data config "
                    f"builds {name} {built[name]}; use the same data settings"
                )


def _moment(name: str) -> str:
    return f"density_{name}"


def _scatter(values: torch.Tensor, slots: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """(B, max_boxes) tensor with ``values`` at their (frame, slot), NaN elsewhere."""
    out = torch.full(tuple(shape), float("nan"), device=values.device)
    slots = slots.to(values.device)
    out[slots[:, 0], slots[:, 1]] = values.float()
    return out


def _frame_max(scores: torch.Tensor, empty: float) -> torch.Tensor:
    """(B,) max over each frame's objects (NaN slots ignored), ``empty`` without objects."""
    filled = torch.nan_to_num(scores, nan=float("-inf")).amax(dim=1)
    return torch.where(torch.isfinite(filled), filled, torch.full_like(filled, empty))
