"""Upside-down frames: detected by a small CNN trained from scratch, then turned back.

The detector (``vad.preprocessing.flip_net``) learns, self-supervised, from the training videos:
random vertical flips of training frames (noisy, blurred, mirrored and shifted too) are its labels.
Optionally, a frame's decision is adjusted by how much better it matches its neighbours as is or
turned over (a fixed camera changes little from one frame to the next).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from vad.data.stages import Frame, FrameStage
from vad.preprocessing.flip_net import FlipNet, fit_flip_net, thumbnail
from vad.preprocessing.trained import LearnedNetwork
from vad.preprocessing.window import batched, sliding

__all__ = ["FlipCorrector", "FlipNet", "fit_flip_net", "temporal_evidence"]


@dataclass
class _Scored:
    frame: Frame
    logit: float
    thumb: np.ndarray
    flipped: bool | None = None  # final decision, once made


class FlipCorrector(LearnedNetwork, FrameStage):
    """Detects upside-down frames and turns them back; notes ``flipped`` (0/1) on every frame.

    Args:
        splits: splits the stage runs on (training footage is normally clean).
        checkpoint: a detector file written by this stage (``<cache_dir>/stages/flip-*.pt``) to
            use instead of training one on the dataset's training videos.
        size, width: thumbnail side (multiple of 16) and base channel count of the network.
        steps, batch_size, lr, seed: training schedule.
        frames_per_video: evenly spaced training frames taken from each training video.
        holdout: share of the training videos held out to measure the detector's accuracy.
        temporal: add evidence from the neighbouring frames (ids at most 2 apart) to each
            decision; ``temporal_weight`` scales it against the network's logit.
        batch: frames scored per network call.
    """

    kind, label, shape_keys = "flip", "flip detector", ("size", "width")
    no_data_message = (
        "flip correction needs training videos to learn from, or a detector "
        "checkpoint (checkpoint=<flip-*.pt>)"
    )
    unfitted_message = "FlipCorrector.fit() must run before frames are corrected"

    def __init__(
        self,
        splits: Sequence[str] = ("test",),
        checkpoint: str | None = None,
        size: int = 64,
        width: int = 8,
        steps: int = 300,
        batch_size: int = 64,
        lr: float = 3e-3,
        frames_per_video: int = 80,
        holdout: float = 0.2,
        seed: int = 0,
        temporal: bool = True,
        temporal_weight: float = 2.0,
        batch: int = 32,
    ) -> None:
        self.splits = tuple(splits)
        self.settings = {
            "size": int(size),
            "width": int(width),
            "steps": int(steps),
            "batch_size": int(batch_size),
            "lr": float(lr),
            "frames_per_video": int(frames_per_video),
            "holdout": float(holdout),
            "seed": int(seed),
        }
        self.temporal, self.temporal_weight = bool(temporal), float(temporal_weight)
        self.batch = int(batch)
        self.init_network(checkpoint)

    def fit(self, train: pd.DataFrame, cache_dir: Path, channels: int) -> None:
        self.fit_network(train, cache_dir)

    def build_net(self) -> FlipNet:
        return FlipNet(self.settings["size"], self.settings["width"])

    def train_net(self, train: pd.DataFrame) -> tuple[FlipNet, dict[str, Any]]:
        return fit_flip_net(train, self.settings)

    def cache_key(self) -> dict[str, Any]:
        return {
            **super().cache_key(),
            "weights": self.weights_identity(),
            "size": self.settings["size"],
            "temporal": self.temporal,
            "temporal_weight": self.temporal_weight if self.temporal else None,
        }

    def __call__(self, frames: Iterator[Frame], video: str) -> Iterator[Frame]:
        for item, past, future in sliding(self._scored(frames), 1, 1):
            evidence = item.logit
            if self.temporal:
                evidence += self.temporal_weight * temporal_evidence(item, past + future)
            item.flipped = evidence > 0
            if item.flipped:
                item.frame.image = np.ascontiguousarray(item.frame.image[::-1])
                item.thumb = item.thumb[::-1]
            item.frame.info["flipped"] = int(item.flipped)
            yield item.frame

    def _scored(self, frames: Iterator[Frame]) -> Iterator[_Scored]:
        net, size = self.require_net(), self.settings["size"]
        for chunk in batched(frames, self.batch):
            thumbs = [thumbnail(frame.image, size) for frame in chunk]
            with torch.no_grad():
                logits = net(torch.from_numpy(np.stack(thumbs)[:, None])).tolist()
            yield from (_Scored(f, lg, t) for f, lg, t in zip(chunk, logits, thumbs, strict=True))


def temporal_evidence(item: _Scored, neighbours: list[_Scored], max_gap: int = 2) -> float:
    """Mean over neighbours of log(distance as is / distance turned over): > 0 when the frame
    matches its (oriented) neighbours better upside down. A neighbour not yet decided is oriented
    by its network logit."""
    scores = []
    for other in neighbours:
        if abs(other.frame.id - item.frame.id) > max_gap:
            continue
        turned = other.flipped if other.flipped is not None else other.logit > 0
        # a decided neighbour's thumbnail is already upright
        reference = other.thumb[::-1] if (other.flipped is None and turned) else other.thumb
        same = float(np.abs(item.thumb - reference).mean())
        over = float(np.abs(item.thumb[::-1] - reference).mean())
        scores.append(np.log((same + 1e-3) / (over + 1e-3)))
    return float(np.mean(scores)) if scores else 0.0
