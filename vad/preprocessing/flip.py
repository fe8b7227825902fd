"""Upside-down frames: detected by a small CNN trained from scratch, then turned back.

The detector learns, self-supervised, from the training videos: each training step flips a random
half of a batch of training frames vertically and asks the network which ones were flipped. Frames
also appear noisy or blurred (as corrupted footage does), mirrored left-right and shifted, so the
decision rests on the scene's vertical layout. Accuracy is measured on held-out training videos.
Optionally, a frame's decision is adjusted by how much better it matches its neighbours as is or
turned over (a fixed camera changes little from one frame to the next).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from vad.data.corrupt import corrupt_image
from vad.data.stages import Frame, FrameStage
from vad.errors import DataError
from vad.preprocessing.trained import (
    grey,
    held_out_videos,
    load_weights,
    restore,
    restore_or_train,
    sample_frames,
    training_key,
    weights_hash,
    weights_path,
)
from vad.preprocessing.window import batched, sliding

log = logging.getLogger(__name__)
KIND = "flip"


class FlipNet(nn.Module):
    """Four conv blocks halve a ``size`` x ``size`` grey thumbnail to ``size/16``; a linear layer on
    the flattened map (which keeps where things are) gives the flip logit."""

    def __init__(self, size: int = 64, width: int = 16) -> None:
        super().__init__()
        if size % 16 or size < 16:
            raise DataError(f"flip detector input size must be a multiple of 16, got {size}")
        widths = [1, width, 2 * width, 4 * width, 4 * width]
        layers: list[nn.Module] = []
        for cin, cout in itertools.pairwise(widths):
            layers += [
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1] * (size // 16) ** 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, S, S) standardised thumbnails -> (B,) logits (> 0: upside down)."""
        return self.head(self.features(x).flatten(1)).squeeze(1)


def thumbnail(image: np.ndarray, size: int) -> np.ndarray:
    """A frame as a standardised float32 (size, size) grey thumbnail."""
    small = cv2.resize(grey(image), (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    return (small - small.mean()) / (small.std() + 1.0)


@dataclass
class FlipExamples:
    """Thumbnails of training frames, clean and corrupted (noise or blur), with their videos."""

    clean: torch.Tensor  # (N, 1, S, S)
    corrupted: torch.Tensor
    videos: np.ndarray

    def subset(self, mask: np.ndarray) -> FlipExamples:
        index = torch.from_numpy(np.flatnonzero(mask))
        return FlipExamples(self.clean[index], self.corrupted[index], self.videos[mask])


def flip_examples(train: pd.DataFrame, size: int, per_video: int, seed: int) -> FlipExamples:
    rng = np.random.default_rng(seed)
    clean, corrupted, videos = [], [], []
    for video, image in sample_frames(train, per_video):
        noisy = rng.random() < 0.5
        damaged = corrupt_image(
            image,
            False,
            rng.uniform(15, 45) if noisy else 0,
            0 if noisy else rng.uniform(1, 4),
            rng,
        )
        clean.append(thumbnail(image, size))
        corrupted.append(thumbnail(damaged, size))
        videos.append(video)
    as_tensor = lambda items: torch.from_numpy(np.stack(items)[:, None])  # noqa: E731
    return FlipExamples(as_tensor(clean), as_tensor(corrupted), np.asarray(videos))


def train_flip_net(data: FlipExamples, settings: dict[str, Any]) -> FlipNet:
    """Train on random vertical flips of ``data`` (plus mirroring, shifts, corrupted copies)."""
    lr, steps = settings["lr"], settings["steps"]
    with torch.random.fork_rng():
        torch.manual_seed(settings["seed"])
        net = FlipNet(settings["size"], settings["width"])
        optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps)
        generator = torch.Generator().manual_seed(settings["seed"])
        net.train()
        for _ in range(steps):
            x, y = _flip_batch(data, settings["batch_size"], generator)
            loss = F.binary_cross_entropy_with_logits(net(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    return net.eval()


def _flip_batch(
    data: FlipExamples, batch_size: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    n, size = len(data.clean), data.clean.shape[-1]
    index = torch.randint(n, (batch_size,), generator=generator)
    draw = lambda: torch.rand(batch_size, generator=generator)[:, None, None, None] < 0.5  # noqa: E731
    x = torch.where(draw(), data.corrupted[index], data.clean[index])
    flipped = draw()
    x = torch.where(flipped, x.flip(2), x)
    x = torch.where(draw(), x.flip(3), x)
    pad = size // 16
    dy, dx = torch.randint(0, 2 * pad + 1, (2,), generator=generator).tolist()
    x = F.pad(x, (pad, pad, pad, pad), mode="replicate")[..., dy : dy + size, dx : dx + size]
    return x, flipped.flatten().float()


@torch.no_grad()
def flip_accuracy(net: FlipNet, data: FlipExamples) -> float:
    """Share of correct decisions over the frames as they are and upside down, clean and
    corrupted."""
    correct, total = 0, 0
    for images in (data.clean, data.corrupted):
        for flipped in (False, True):
            logits = net(images.flip(2) if flipped else images)
            correct += int(((logits > 0) == flipped).sum())
            total += len(images)
    return correct / max(total, 1)


def fit_flip_net(
    train: pd.DataFrame, settings: dict[str, Any]
) -> tuple[FlipNet, dict[str, float | int]]:
    """Train on all but the held-out training videos; measure accuracy on the held-out ones."""
    start = time.perf_counter()
    data = flip_examples(train, settings["size"], settings["frames_per_video"], settings["seed"])
    held_out = held_out_videos(list(dict.fromkeys(data.videos.tolist())), settings["holdout"])
    test_mask = np.isin(data.videos, list(held_out))
    fit_data = data.subset(~test_mask)
    net = train_flip_net(fit_data, settings)
    metrics: dict[str, float | int] = {
        "train_frames": int((~test_mask).sum()),
        "train_accuracy": flip_accuracy(net, fit_data),
        "heldout_videos": len(held_out),
        "heldout_frames": int(test_mask.sum()),
        "seconds": round(time.perf_counter() - start, 1),
    }
    if held_out:
        metrics["heldout_accuracy"] = flip_accuracy(net, data.subset(test_mask))
    return net, metrics


@dataclass
class _Scored:
    frame: Frame
    logit: float
    thumb: np.ndarray
    flipped: bool | None = None  # final decision, once made


class FlipCorrector(FrameStage):
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
        self.checkpoint = str(checkpoint) if checkpoint else None
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
        self.net: FlipNet | None = None
        self.metrics: dict[str, Any] = {}
        self.weights_file: Path | None = None
        self._trained_on: str | None = None

    def fit(self, train: pd.DataFrame, cache_dir: Path, channels: int) -> None:
        if self.checkpoint:
            self._require_net()
            return
        if train.empty:
            raise DataError(
                "flip correction needs training videos to learn from, or a detector "
                "checkpoint (checkpoint=<flip-*.pt>)"
            )
        key = training_key(train, self.settings)
        if key == self._trained_on:
            return
        path = weights_path(cache_dir, KIND, key)
        log.info("flip detector for %d training videos: %s", len(train), path)
        trained = restore_or_train(
            path, KIND, self.settings, self._restore, lambda: fit_flip_net(train, self.settings)
        )
        if trained is not None:
            (self.net, self.metrics), self.weights_file = trained, path
        self._trained_on = key
        log.info("flip detector %s: %s", path, self.metrics)

    def _restore(self, payload: dict[str, Any], path: str | Path) -> None:
        config = payload.get("config", {})
        self.settings.update({k: config[k] for k in ("size", "width") if k in config})
        self.net = restore(FlipNet(self.settings["size"], self.settings["width"]), payload, path)
        self.metrics, self.weights_file = dict(payload.get("metrics", {})), Path(path)

    def _require_net(self) -> FlipNet:
        if self.net is None:
            if not self.checkpoint:
                raise RuntimeError("FlipCorrector.fit() must run before frames are corrected")
            self._restore(load_weights(self.checkpoint, KIND), self.checkpoint)
        assert self.net is not None
        return self.net

    def cache_key(self) -> dict[str, Any]:
        return {
            **super().cache_key(),
            "weights": weights_hash(self._require_net()),
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
        net, size = self._require_net(), self.settings["size"]
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
