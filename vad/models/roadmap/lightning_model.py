"""Lightning module of ROADMAP-lite: multi-path ConvGRU next-frame prediction with a
noise-tolerance loss (Wang et al., IEEE TNNLS 2021, arXiv 2011.02763)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from vad.data.batch import ClipBatch
from vad.errors import VADError
from vad.models.base import Prediction, VADModule
from vad.models.losses import (
    noise_tolerant_gradient_loss,
    noise_tolerant_loss,
    temporal_noise_level,
)
from vad.models.roadmap.torch_model import MultiPathPredictor

DEFAULT_LOSS = {
    "intensity": 1.0,
    "gradient": 1.0,
    "gradient_alpha": 1.0,
    "noise_k": 2.0,
    "min_tolerance": 0.0,
}


def per_path(value: int | Sequence[int], depth: int, name: str) -> list[int]:
    """One int for every path, or a list with one entry per path (finest first)."""
    if isinstance(value, int):
        return [value] * depth
    values = [int(v) for v in value]
    if len(values) != depth:
        raise VADError(f"model.{name}: {values} has {len(values)} entries for {depth} paths")
    return values


class RoadmapModule(VADModule):
    """Predicts frame t from frames t-history..t-1 with a multi-path ConvGRU network.

    Loss (weights in ``loss``) = ``intensity`` x L2 + ``gradient`` x gradient difference (FFP,
    exponent ``gradient_alpha``), both made noise tolerant [+ the adversarial term of the base
    module, off by default]. No perceptual (pretrained VGG) term is used.

    Noise tolerance: the paper introduces a noise-tolerance loss so that background noise does
    not interfere with training (abstract); its formulation here: each clip's noise sigma is
    estimated robustly from its input frames (``temporal_noise_level``: the median absolute
    difference of consecutive frames, dominated by static background), and residuals within
    ``tolerance = max(noise_k * sigma, min_tolerance)`` (frame units, [-1, 1]) cost nothing,
    larger ones their excess (``noise_tolerant_loss``; ``noise_tolerant_gradient_loss`` with a
    sqrt(2) x wider band on gradient differences). The model spends no capacity on
    unpredictable noise and is pulled less towards noise-like texture; mispredicted objects are
    penalised as by the FFP loss, which ``noise_k: 0`` restores exactly. The estimate assumes a
    static camera: a clip where most pixels change (camera motion, a corrupt frame) gets a wide
    band and so contributes little.

    Scores: the standard ``mse``, ``psnr`` and ``patch_max`` errors of the predicted frame.
    """

    def __init__(
        self,
        image_size: Sequence[int],
        channels: int,
        optimizer: Callable,
        history: int = 4,
        base_width: int = 16,
        depth: int = 3,
        path_kernel_sizes: int | Sequence[int] = 3,
        path_dilations: int | Sequence[int] = 1,
        loss: dict[str, float] | None = None,
        **base: Any,
    ) -> None:
        super().__init__(image_size, channels, optimizer, **base)
        self.history = int(history)
        if self.history < 2:
            raise VADError(f"model.history: need at least 2 input frames, got {history}")
        unknown = set(loss or {}) - set(DEFAULT_LOSS)
        if unknown:
            raise VADError(f"model.loss: unknown term(s) {sorted(unknown)} (known: {DEFAULT_LOSS})")
        self.loss_weights = {**DEFAULT_LOSS, **(loss or {})}
        self.net = MultiPathPredictor(
            channels,
            base_width,
            depth,
            per_path(path_kernel_sizes, depth, "path_kernel_sizes"),
            per_path(path_dilations, depth, "path_dilations"),
        )

    @property
    def clip_length(self) -> int:
        return self.history + 1

    def forward(self, batch: ClipBatch) -> Prediction:
        frames = batch.frames  # (B, L, C, H, W)
        pred = self.net(frames[:, : self.history])
        return Prediction(pred, batch.clip_targets[:, self.history], positions=(self.history,))

    def tolerance(self, batch: ClipBatch) -> torch.Tensor:
        """Per-clip tolerance band (B,) of the noise-tolerant loss, from the input frames."""
        w = self.loss_weights
        sigma = temporal_noise_level(batch.frames[:, : self.history])
        return (w["noise_k"] * sigma).clamp_min(w["min_tolerance"])

    def losses(self, batch: ClipBatch, out: Prediction) -> dict[str, torch.Tensor]:
        w = self.loss_weights
        band = self.tolerance(batch)
        parts = {
            "intensity": noise_tolerant_loss(out.pred, out.target, band),
            "gradient": noise_tolerant_gradient_loss(
                out.pred, out.target, band, w["gradient_alpha"]
            ),
        }
        parts["loss"] = w["intensity"] * parts["intensity"] + w["gradient"] * parts["gradient"]
        return parts
