"""The flip detector's network and its self-supervised training.

The detector learns from the training videos: each training step flips a random half of a batch of
training frames vertically and asks the network which ones were flipped. Frames also appear noisy
or blurred (as corrupted footage does), mirrored left-right and shifted, so the decision rests on
the scene's vertical layout. Accuracy is measured on held-out training videos.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import cv2
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from vad.data.corrupt import corrupt_image
from vad.errors import DataError
from vad.preprocessing.trained import grey, held_out_videos, sample_frames, train_network


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

    def loss(net: nn.Module, generator: torch.Generator) -> torch.Tensor:
        x, y = _flip_batch(data, settings["batch_size"], generator)
        return F.binary_cross_entropy_with_logits(net(x), y)

    return train_network(
        lambda: FlipNet(settings["size"], settings["width"]),
        partial(torch.optim.AdamW, lr=settings["lr"], weight_decay=1e-4),
        loss,
        settings["steps"],
        settings["lr"],
        settings["seed"],
    )


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
