"""Lightning module of STAE: reconstruct T frames and predict the next T from one 3D encoding."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import torch

from vad.data.batch import ClipBatch
from vad.models.base import Prediction, VADModule
from vad.models.losses import intensity_loss
from vad.models.prediction_errors import frame_errors
from vad.models.stae.scoring import BRANCH_ERRORS, branch_weights, mix_scores
from vad.models.stae.torch_model import STAE
from vad.models.step_logging import log_losses


def prediction_weights(frames: int) -> torch.Tensor:
    """Weight of future frame i (0-based) in the prediction loss: ``(T - i) / (T (T + 1) / 2)``.

    The weights decrease linearly (the nearest future frame counts T times as much as the last)
    and are normalised to sum to 1, so the loss is a weighted mean of per-frame MSEs on the same
    scale as the reconstruction MSE.
    """
    if frames < 1:
        raise ValueError(f"need at least one predicted frame, got {frames}")
    weights = torch.arange(frames, 0, -1, dtype=torch.float32)
    return weights / weights.sum()


def weighted_prediction_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-frame MSE of (B, T, C, H, W) clips, weighted by ``prediction_weights(T)``."""
    per_frame = ((pred.float() - target.float()) ** 2).mean(dim=(0, 2, 3, 4))
    return (prediction_weights(pred.shape[1]).to(per_frame.device) * per_frame).sum()


class STAEModule(VADModule):
    """Spatio-temporal autoencoder (Zhao et al., ACM MM 2017) on clips of 2T frames.

    The first T frames are encoded once; one decoder reconstructs them, the other predicts the
    following T. Loss = ``loss.reconstruction`` x MSE(reconstruction) + ``loss.prediction`` x
    weight-decreasing prediction MSE (``prediction_weights``) [+ the base adversarial term on
    all 2T output frames]. Frame scores mix the branches' errors by ``mix`` (see
    ``vad.models.stae.scoring``). The defaults (T = 16, widths 32-48-64-64) are the paper's;
    ``conf/model/stae.yaml`` holds a slimmer CPU setting.

    Errors depend on the clip position: the first and last reconstructed frames and the far
    future are harder than the middle, so a frame that only edge positions cover (the ends of a
    video) would look anomalous. With ``calibrate_positions`` every validation epoch measures the
    mean error of each clip position on the held-out normal videos (the fitted moment
    ``position_error``, see ``vad.models.fitted``), and scores multiply each position's error by
    mean / its own mean, putting all positions and both branches on one scale. Without
    validation videos it stays uncalibrated.
    """

    #: its Conv3d layers gain nothing from channels-last-3d on CPU (a bf16 step 145 ms against 138)
    memory_format = torch.contiguous_format

    def __init__(
        self,
        image_size: Sequence[int],
        channels: int,
        optimizer: Callable,
        input_frames: int = 16,
        widths: Sequence[int] = (16, 24, 32, 32),
        loss: Mapping[str, float] | None = None,
        mix: Mapping[str, float] | None = None,
        calibrate_positions: bool = True,
        **base: Any,
    ) -> None:
        super().__init__(image_size, channels, optimizer, **base)
        self.input_frames = int(input_frames)
        prediction_weights(self.input_frames)  # validates T
        self.loss_weights = {"reconstruction": 1.0, "prediction": 1.0, **(loss or {})}
        self.mix = branch_weights(mix)
        self.net = STAE(channels, widths)
        self.calibrate_positions = bool(calibrate_positions)
        self.fitted.declare("position_error", (len(BRANCH_ERRORS), self.clip_length))

    @property
    def clip_length(self) -> int:
        return 2 * self.input_frames

    def forward(self, batch: ClipBatch) -> Prediction:
        """``pred``/``target``: (B, 2T, C, H, W), the reconstructed inputs then the predictions."""
        frames = batch.frames
        inputs = frames[:, : self.input_frames].transpose(1, 2)  # (B, C, T, H, W)
        reconstruction, future = self.net(inputs)
        pred = torch.cat([reconstruction, future], dim=2).transpose(1, 2)
        return Prediction(pred, batch.clip_targets, positions=tuple(range(self.clip_length)))

    def losses(self, batch: ClipBatch, out: Prediction) -> dict[str, torch.Tensor]:
        t, w = self.input_frames, self.loss_weights
        parts = {
            "reconstruction": intensity_loss(out.pred[:, :t].float(), out.target[:, :t].float()),
            "prediction": weighted_prediction_loss(out.pred[:, t:], out.target[:, t:]),
        }
        parts["loss"] = (
            w["reconstruction"] * parts["reconstruction"] + w["prediction"] * parts["prediction"]
        )
        return parts

    def position_errors(self, out: Prediction) -> torch.Tensor:
        """Raw ``BRANCH_ERRORS`` of every clip frame: (len(BRANCH_ERRORS), B, 2T)."""
        b, length = out.pred.shape[:2]
        errors = frame_errors(out.pred.flatten(0, 1), out.target.flatten(0, 1), self.patch_size)
        return torch.stack([errors[name].view(b, length) for name in BRANCH_ERRORS])

    def position_factors(self) -> torch.Tensor:
        """(len(BRANCH_ERRORS), 2T): mean normal error over all positions / that of a position
        (all ones before the first validation epoch)."""
        if not self.fitted.is_fitted("position_error"):
            return torch.ones(len(BRANCH_ERRORS), self.clip_length, device=self.device)
        scale = self.fitted.mean("position_error").clamp_min(1e-12)
        return scale.mean(dim=1, keepdim=True) / scale

    def frame_scores(self, out: Prediction) -> dict[str, torch.Tensor]:
        """One row per clip frame (B x 2T): ``recon_*`` errors on the T inputs, ``pred_*`` on the
        T predicted frames, NaN in the other branch's columns; position-calibrated if enabled."""
        errors = self.position_errors(out)
        if self.calibrate_positions:
            errors = errors * self.position_factors()[:, None, :]
        length = errors.shape[-1]
        is_input = torch.arange(length, device=errors.device) < self.input_frames
        scores = {}
        for branch, rows in (("recon", is_input), ("pred", ~is_input)):
            for i, name in enumerate(BRANCH_ERRORS):
                scores[f"{branch}_{name}"] = torch.where(rows, errors[i], float("nan")).flatten()
        return {**scores, **self.map_scoring.columns(out)}

    def finalize_scores(self, scores: pd.DataFrame) -> pd.DataFrame:
        """Add the standard ``mse``, ``psnr``, ``patch_max`` columns mixed from both branches."""
        return mix_scores(scores, self.mix)

    def deployed_finalize(self) -> tuple[str, dict[str, Any]]:
        """``finalize_scores`` for an exported graph's runtime (``vad.deploy``): the function
        and its keyword arguments."""
        return "vad.models.stae.scoring.mix_scores", {"weights": dict(self.mix)}

    def validation_step(self, batch: ClipBatch, batch_idx: int) -> None:
        out = self.predict_clips(batch)
        losses = self.losses(batch, out)
        errors = self.position_errors(out).float()
        mse = errors[BRANCH_ERRORS.index("mse")]
        psnr = 10 * torch.log10(1 / mse.clamp_min(1e-10))
        losses["recon_psnr"] = psnr[:, : self.input_frames].mean()
        losses["pred_psnr"] = psnr[:, self.input_frames :].mean()
        log_losses(self, "val", losses)
        self.fitted.update("position_error", errors.transpose(0, 1))
        self.map_scoring.update(out)
