"""A small learned denoiser, trained from scratch on training frames with synthetic noise.

A DnCNN-style residual network (convolutions that predict the noise, subtracted from the input)
learns on random patches of the training videos with Gaussian noise of a random strength. It is an
alternative to non-local means; a checkpoint written by a previous run can be given instead.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from vad.errors import DataError
from vad.preprocessing.trained import (
    LearnedNetwork,
    held_out_videos,
    sample_frames,
    train_network,
)


class DenoiseNet(nn.Module):
    """``depth`` 3x3 convolutions of ``width`` channels predicting the noise of a grey image."""

    def __init__(self, width: int = 32, depth: int = 6) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(1, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, 1, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) noisy images in [0, 1] -> denoised images."""
        return x - self.body(x)


def training_patches(
    train: pd.DataFrame, patch: int, per_video: int, seed: int
) -> tuple[torch.Tensor, np.ndarray]:
    """Random ``patch`` x ``patch`` crops (4 per sampled frame) in [0, 1], with their videos."""
    rng = np.random.default_rng(seed)
    crops, videos = [], []
    for video, image in sample_frames(train, per_video):
        h, w = image.shape
        if h < patch or w < patch:
            raise DataError(f"training frames of video {video} are smaller than the {patch} patch")
        for _ in range(4):
            y, x = rng.integers(0, h - patch + 1), rng.integers(0, w - patch + 1)
            crops.append(image[y : y + patch, x : x + patch])
            videos.append(video)
    return torch.from_numpy(np.stack(crops)[:, None]).float() / 255.0, np.asarray(videos)


def add_noise(
    clean: torch.Tensor, sigma: tuple[float, float], generator: torch.Generator
) -> torch.Tensor:
    """Gaussian noise of a random std in ``sigma`` (grey levels) per image, clipped to [0, 1]."""
    low, high = sigma
    std = low + (high - low) * torch.rand(len(clean), 1, 1, 1, generator=generator)
    noise = torch.randn(clean.shape, generator=generator) * std / 255.0
    return (clean + noise).clamp(0, 1)


def train_denoise_net(patches: torch.Tensor, settings: dict[str, Any]) -> DenoiseNet:
    """Minimise the error of denoised noisy patches."""

    def loss(net: nn.Module, generator: torch.Generator) -> torch.Tensor:
        index = torch.randint(len(patches), (settings["batch_size"],), generator=generator)
        clean = patches[index]
        return F.mse_loss(net(add_noise(clean, settings["sigma"], generator)), clean)

    return train_network(
        lambda: DenoiseNet(settings["width"], settings["depth"]),
        partial(torch.optim.Adam, lr=settings["lr"]),
        loss,
        settings["steps"],
        settings["lr"],
        settings["seed"],
    )


@torch.no_grad()
def psnr_gain(net: DenoiseNet, clean: torch.Tensor, sigma: tuple[float, float]) -> dict:
    """PSNR (dB) of noisy and of denoised patches against the clean ones."""
    generator = torch.Generator().manual_seed(1)
    noisy = add_noise(clean, sigma, generator)
    psnr = lambda x: float(10 * torch.log10(1 / F.mse_loss(x, clean)))  # noqa: E731
    return {"psnr_noisy": psnr(noisy), "psnr_denoised": psnr(net(noisy).clamp(0, 1))}


class LearnedDenoiser(LearnedNetwork):
    """The learned denoiser of a ``Denoiser`` stage (``method: learned``): trained on the
    training videos once, stored in ``<cache_dir>/stages/``, or read from ``checkpoint``."""

    kind, label, shape_keys = "denoise", "denoiser", ("width", "depth")
    no_data_message = "the learned denoiser needs training videos, or a checkpoint"
    unfitted_message = "the learned denoiser must be fitted before it is used"

    def __init__(
        self,
        checkpoint: str | None = None,
        width: int = 32,
        depth: int = 6,
        steps: int = 600,
        batch_size: int = 16,
        patch: int = 48,
        lr: float = 2e-3,
        frames_per_video: int = 20,
        sigma: tuple[float, float] = (10.0, 50.0),
        holdout: float = 0.2,
        seed: int = 0,
    ) -> None:
        self.settings: dict[str, Any] = {
            "width": int(width),
            "depth": int(depth),
            "steps": int(steps),
            "batch_size": int(batch_size),
            "patch": int(patch),
            "lr": float(lr),
            "frames_per_video": int(frames_per_video),
            "sigma": [float(s) for s in sigma],
            "holdout": float(holdout),
            "seed": int(seed),
        }
        self.init_network(checkpoint)

    def build_net(self) -> DenoiseNet:
        return DenoiseNet(self.settings["width"], self.settings["depth"])

    def train_net(self, train: pd.DataFrame) -> tuple[DenoiseNet, dict[str, Any]]:
        s, start = self.settings, time.perf_counter()
        patches, videos = training_patches(train, s["patch"], s["frames_per_video"], s["seed"])
        held_out = held_out_videos(list(dict.fromkeys(videos.tolist())), s["holdout"])
        test = np.isin(videos, list(held_out))
        net = train_denoise_net(patches[torch.from_numpy(~test)], s)
        metrics = psnr_gain(net, patches[torch.from_numpy(test)], s["sigma"]) if test.any() else {}
        return net, {**metrics, "seconds": round(time.perf_counter() - start, 1)}

    @torch.no_grad()
    def __call__(self, image: np.ndarray) -> np.ndarray:
        """Denoise a uint8 grey (H, W) or RGB (H, W, 3) frame, channel by channel."""
        planes = image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)
        x = torch.from_numpy(np.ascontiguousarray(planes)).float()[:, None] / 255.0
        out = (self.require_net()(x).clamp(0, 1) * 255).round().to(torch.uint8).numpy()[:, 0]
        return out[0] if image.ndim == 2 else np.moveaxis(out, 0, -1).copy()
