"""Lightning module of the joint appearance + motion predictor.

Alignment (identical at training, validation and test, one code path ``split_clip``): a clip holds
frames ``t-history .. t`` with ``flow[k]`` = flow from frame ``k-1`` to ``k`` (``vad.data.flow``).
For target frame ``t`` the inputs are frames ``t-history .. t-1`` and the flow ``t-2 -> t-1``; the
targets are frame ``t`` and the flow ``t-1 -> t``. Both flows lie inside the clip (positions
``history-1`` and ``history`` >= 1), so they are always real flows: clips never span a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from vad.data.batch import ClipBatch
from vad.data.flow import flow_settings, flow_valid
from vad.errors import DataError, VADError
from vad.models.base import Prediction, VADModule
from vad.models.contract import ModelContract
from vad.models.joint.combined_score import (
    FLOW_COLUMNS,
    FRAME_COLUMNS,
    STAT_COLUMNS,
    combined_score,
    flow_errors,
    log_errors,
)
from vad.models.joint.torch_model import JointNet
from vad.models.losses import gradient_loss, intensity_loss
from vad.models.prediction_errors import frame_errors
from vad.models.step_logging import log_losses


class JointConfigError(VADError, ValueError):
    """A setting of the joint model is out of range."""


class JointModule(VADModule):
    """Predicts frame ``t`` and the flow ``t-1 -> t`` from frames ``t-history..t-1`` and the flow
    ``t-2 -> t-1``.

    Loss = ``intensity`` x L2 + ``gradient`` x gradient difference on the frame + ``flow`` x L1 on
    the flow in units of ``flow_scale`` (the RMS flow component of the training videos, measured
    when fitting starts and stored with the weights: one constant, so absolute speed is kept).

    Score columns: ``mse``, ``psnr``, ``patch_max`` (frame stream), ``flow_mse``,
    ``flow_patch_max`` (flow stream) and ``combined`` (see ``vad.models.joint.combined_score``). The
    mean/std of the log errors of each stream column on the held-out normal validation videos are
    measured over every validation epoch (the fitted moment ``log_error``, entries
    ``STAT_COLUMNS``; see ``vad.models.fitted``), so every checkpoint holds the statistics of its
    own weights; no test statistic is used.

    Args:
        flow: the data config's flow settings the model is trained with; fitting or predicting on
            data whose flow settings differ is an error.
        score: ``{frame, flow, frame_weight, flow_weight}``: the error column of each stream in
            ``combined`` and its weight.
    """

    contract = ModelContract(score_column="combined", modalities=("frames", "flow"))

    def __init__(
        self,
        image_size: Sequence[int],
        channels: int,
        optimizer: Callable,
        history: int = 4,
        base_width: int = 16,
        motion_width: int = 8,
        depth: int = 3,
        loss: Mapping[str, float] | None = None,
        score: Mapping[str, Any] | None = None,
        flow: Mapping[str, Any] | None = None,
        **base: Any,
    ) -> None:
        super().__init__(image_size, channels, optimizer, **base)
        if history < 2:
            raise JointConfigError(
                f"history must be >= 2 (the input flow is t-2 -> t-1), got {history}"
            )
        self.history = int(history)
        if self.pseudo_anomaly["probability"] > 0:
            raise JointConfigError(
                "pseudo_anomaly is not available for the joint model: its flow input would need "
                "the flow between skipped frames, which the cache does not hold"
            )
        self.loss_weights = {
            "intensity": 1.0,
            "gradient": 1.0,
            "gradient_alpha": 1.0,
            "flow": 1.0,
            **(loss or {}),
        }
        self.combined_weights = _combined_weights(score)
        self.flow_cfg = flow_settings(flow) if flow is not None else None
        self.net = JointNet(channels, self.history, base_width, motion_width, depth)
        self.register_buffer("flow_scale", torch.zeros(()))
        self.fitted.declare("log_error", (len(STAT_COLUMNS),))

    @property
    def clip_length(self) -> int:
        return self.history + 1

    # ---- data alignment ----------------------------------------------------------------------
    def split_clip(self, batch: ClipBatch) -> dict[str, torch.Tensor]:
        """Inputs and targets of a float batch (frames (B, L, C, H, W), flow (B, L, 2, H, W))."""
        frames, flow, t = batch.frames, batch.modality("flow"), self.history
        return {
            "frames": frames[:, :t].flatten(1, 2),
            "flow": flow[:, t - 1],
            "frame_target": frames[:, t],
            "flow_target": flow[:, t],
        }

    def forward(self, batch: ClipBatch) -> Prediction:
        parts, scale = self.split_clip(batch), self._flow_scale()
        frame, flow = self.net(parts["frames"], parts["flow"] / scale)
        extra = {"flow_pred": flow * scale, "flow_target": parts["flow_target"]}
        return Prediction(frame, parts["frame_target"], positions=(self.history,), extra=extra)

    def _flow_scale(self) -> torch.Tensor:
        if not self.flow_scale > 0:
            raise JointConfigError(
                "flow_scale is not set: fit the model (it is measured on the training flow) "
                "or load a trained checkpoint"
            )
        return self.flow_scale

    # ---- training ----------------------------------------------------------------------------
    def losses(self, batch: ClipBatch, out: Prediction) -> dict[str, torch.Tensor]:
        w = self.loss_weights
        flow_diff = (out.extra["flow_pred"].float() - out.extra["flow_target"].float()).abs()
        parts = {
            "intensity": intensity_loss(out.pred, out.target),
            "gradient": gradient_loss(out.pred, out.target, w["gradient_alpha"]),
            "flow": flow_diff.mean() / self._flow_scale(),
        }
        parts["loss"] = sum(w[name] * parts[name] for name in ("intensity", "gradient", "flow"))
        return parts

    def validation_step(self, batch: ClipBatch, batch_idx: int) -> None:
        out = self.predict_clips(batch)
        losses = self.losses(batch, out)
        errors = self.stream_errors(out)
        log_losses(
            self,
            "val",
            {**losses, "psnr": errors["psnr"].mean(), "flow_mse": errors["flow_mse"].mean()},
        )
        self.fitted.update("log_error", log_errors(errors))
        self.map_scoring.update(out)

    def on_fit_start(self) -> None:
        self._check_flow_settings()
        datamodule = self.trainer.datamodule
        if not len(datamodule.split_table("val")):
            raise JointConfigError(
                "the joint model needs validation videos (data.val_videos > 0): its combined "
                "score is normalised by the error statistics of held-out normal videos"
            )
        if not self.flow_scale > 0:
            self.flow_scale.fill_(training_flow_rms(datamodule.videos("train")))

    # ---- scoring -----------------------------------------------------------------------------
    def stream_errors(self, out: Prediction) -> dict[str, torch.Tensor]:
        """Frame-stream (``mse``, ``psnr``, ``patch_max``) and flow-stream error columns."""
        errors = frame_errors(out.pred, out.target, self.patch_size)
        errors.update(
            flow_errors(out.extra["flow_pred"], out.extra["flow_target"], self.patch_size)
        )
        return errors

    def frame_scores(self, out: Prediction) -> dict[str, torch.Tensor]:
        errors = self.stream_errors(out)
        mean, std = self.fitted.mean("log_error"), self.fitted.std("log_error")
        errors["combined"] = combined_score(errors, mean, std, self.combined_weights)
        return {**errors, **self.map_scoring.columns(out)}

    def on_predict_start(self) -> None:
        if not self.fitted.is_fitted("log_error"):
            raise JointConfigError(
                "the model has no validation error statistics for its combined score (it was "
                "never validated); train it with validation videos (data.val_videos > 0)"
            )
        self._check_flow_settings()

    def _check_flow_settings(self) -> None:
        settings = getattr(self.trainer.datamodule, "modality_settings", {}).get("flow")
        if self.flow_cfg is not None and settings is not None and settings != self.flow_cfg:
            raise DataError(
                f"the model is trained on flow {self.flow_cfg}, but the data config builds flow "
                f"{settings}; use the same data.flow settings"
            )


def training_flow_rms(videos: Sequence[Any]) -> float:
    """RMS of the flow components over the valid flows of cached videos (1.0 if all static)."""
    total, count = 0.0, 0
    for video in videos:
        flow = np.asarray(video.array("flow"))[flow_valid(video.frame_ids)]
        total += float(np.square(flow, dtype=np.float64).sum())
        count += flow.size
    if count == 0:
        raise DataError("no training flow to measure its scale (training videos of one frame?)")
    rms = (total / count) ** 0.5
    return rms if rms > 0 else 1.0


def _combined_weights(score: Mapping[str, Any] | None) -> dict[str, float]:
    """``{frame column: weight, flow column: weight}`` of the ``combined`` score."""
    cfg = {"frame": "mse", "flow": "flow_mse", "frame_weight": 1.0, "flow_weight": 1.0}
    unknown = sorted(set(score or {}) - set(cfg))
    cfg.update(score or {})
    if unknown or cfg["frame"] not in FRAME_COLUMNS or cfg["flow"] not in FLOW_COLUMNS:
        raise JointConfigError(
            f"score needs frame in {FRAME_COLUMNS}, flow in {FLOW_COLUMNS}, frame_weight and "
            f"flow_weight; got {dict(score or {})}"
        )
    return {cfg["frame"]: float(cfg["frame_weight"]), cfg["flow"]: float(cfg["flow_weight"])}
