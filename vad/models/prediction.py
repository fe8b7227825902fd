"""What a model returns for a clip batch: ``Prediction``, the one input of the scorer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from vad.models.prediction_errors import error_map


@dataclass
class Prediction:
    """Model output for a batch: ``pred`` should match ``target`` (both in [-1, 1]).

    For single-frame predictors both are (B, C, H, W) and ``positions`` is the clip position of the
    target frame; models that output several frames per clip return (B, P, C, H, W), one per
    position. ``extra`` holds anything else a model's losses or scores need. ``video`` and
    ``frame_ids`` (B, P: the original id of every output frame) are set by
    ``VADModule.predict_clips``. A model that scores without predicting frames (e.g. a density
    of object attributes) sets ``maps`` (B, P, H, W), its anomaly map of every output frame,
    and may leave ``pred`` / ``target`` as the frames themselves.
    """

    pred: torch.Tensor
    target: torch.Tensor
    positions: Sequence[int] = (-1,)
    extra: dict[str, torch.Tensor] = field(default_factory=dict)
    video: list[str] = field(default_factory=list)
    frame_ids: torch.Tensor | None = None
    maps: torch.Tensor | None = None

    def per_position(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``pred`` and ``target`` as (B, P, C, H, W), one output frame per clip position."""
        if self.pred.ndim == 4:
            return self.pred[:, None], self.target[:, None]
        return self.pred, self.target

    def error_maps(self) -> torch.Tensor:
        """Squared-error maps (B, P, H, W) in [0, 1] scale of every output frame, or the model's
        own anomaly maps (``maps``) when it scores without predicting frames."""
        if self.maps is not None:
            return self.maps
        pred, target = self.per_position()
        maps = error_map(pred.flatten(0, 1), target.flatten(0, 1))
        return maps.view(*pred.shape[:2], *maps.shape[-2:])
