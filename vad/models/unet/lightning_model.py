"""Lightning module of the U-Net future-frame predictor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from vad.data.batch import ClipBatch
from vad.errors import VADError
from vad.models.base import Prediction, VADModule
from vad.models.losses import (
    gradient_loss,
    intensity_loss,
    motion_weights,
    weighted_intensity_loss,
)
from vad.models.unet.torch_model import UNet


class UNetModule(VADModule):
    """Predicts frame t from frames t-history..t-1 stacked on channels (FFP).

    Loss = ``intensity`` x L2 + ``gradient`` x gradient difference (exponent ``gradient_alpha``)
    [+ the adversarial term of the base module]. ``motion`` > 0 weighs the L2 term per pixel by
    the motion between the last input frame and the target (``losses.motion_weights``). FFP's
    optical-flow loss needs a pretrained FlowNet and is not used.
    """

    def __init__(
        self,
        image_size: Sequence[int],
        channels: int,
        optimizer: Callable,
        history: int = 4,
        base_width: int = 16,
        depth: int = 3,
        loss: dict[str, float] | None = None,
        init_std: float | None = 0.02,
        **base: Any,
    ) -> None:
        super().__init__(image_size, channels, optimizer, **base)
        self.history = int(history)
        if self.history < 1:
            raise VADError(f"model.history={history!r} is invalid: at least 1 input frame")
        self.loss_weights = {
            "intensity": 1.0,
            "gradient": 1.0,
            "gradient_alpha": 1.0,
            "motion": 0.0,
            **(loss or {}),
        }
        if not 0.0 <= float(self.loss_weights["motion"]) <= 1.0:
            raise VADError(f"model.loss.motion={self.loss_weights['motion']!r}: a weight in [0, 1]")
        self.net = UNet(self.history * channels, channels, base_width, depth, init_std)

    @property
    def clip_length(self) -> int:
        return self.history + 1

    def forward(self, batch: ClipBatch) -> Prediction:
        frames = batch.frames  # (B, L, C, H, W)
        inputs = frames[:, : self.history].flatten(1, 2)
        targets = batch.clip_targets
        target, previous = targets[:, self.history], targets[:, self.history - 1]
        return Prediction(
            self.net(inputs), target, positions=(self.history,), extra={"previous": previous}
        )

    def losses(self, batch: ClipBatch, out: Prediction) -> dict[str, torch.Tensor]:
        w = self.loss_weights
        if w["motion"] > 0:
            weights = motion_weights(out.extra["previous"], out.target, float(w["motion"]))
            intensity = weighted_intensity_loss(out.pred, out.target, weights)
        else:
            intensity = intensity_loss(out.pred, out.target)
        parts = {
            "intensity": intensity,
            "gradient": gradient_loss(out.pred, out.target, w["gradient_alpha"]),
        }
        parts["loss"] = w["intensity"] * parts["intensity"] + w["gradient"] * parts["gradient"]
        return parts
