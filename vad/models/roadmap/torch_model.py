"""The multi-path ConvGRU frame predictor of ROADMAP (Wang et al., "Robust Unsupervised Video
Anomaly Detection by Multi-Path Frame Prediction", IEEE TNNLS 2021, arXiv 2011.02763).

The paper (abstract) predicts the next frame with a multi-path ConvGRU network whose paths handle
objects and areas of different scales and capture spatio-temporal dependencies in normal videos.
No official code is public; this "lite" network follows that description, and its layer-level
choices are this package's:

* a per-frame encoder (shared over time) with residual blocks gives features at 1/2, 1/4, ...,
  1/2**depth of the frame size, plus shallow full-size features;
* one ConvGRU per scale (a "path") runs over the T input frames; each path has its own kernel size
  and dilation, so the paths see different receptive fields;
* a decoder upsamples from the coarsest path's last hidden state, concatenating each finer path's
  last hidden state and finally the last frame's shallow features, to the next frame (tanh).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vad.models.components.convgru import ConvGRU


def conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    """3x3 convolution + BatchNorm + ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class ResidualBlock(nn.Module):
    """Two 3x3 conv + BatchNorm layers with an identity shortcut (He et al., CVPR 2016)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_bn_relu(channels, channels),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


def path_widths(base_width: int, depth: int) -> list[int]:
    """Channels of the shallow features and of each path: base, then base * 2**i at 1/2**(i+1)."""
    return [base_width] + [base_width * 2**i for i in range(depth)]


class FrameEncoder(nn.Module):
    """Per-frame encoder: shallow full-size features, then one stride-2 stage per path."""

    def __init__(self, in_channels: int, widths: Sequence[int]) -> None:
        super().__init__()
        self.stem = conv_bn_relu(in_channels, widths[0])
        self.stages = nn.ModuleList(
            nn.Sequential(conv_bn_relu(c_in, c_out, stride=2), ResidualBlock(c_out))
            for c_in, c_out in itertools.pairwise(widths)
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(N, C, H, W) -> [shallow (N, w0, H, W), scale 1/2, ..., scale 1/2**depth]."""
        features = [self.stem(x)]
        for stage in self.stages:
            features.append(stage(features[-1]))
        return features


class UpBlock(nn.Module):
    """Bilinear x2 upsampling, concatenation with a skip map, two 3x3 conv + BN + ReLU."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_bn_relu(in_channels + skip_channels, out_channels),
            conv_bn_relu(out_channels, out_channels),
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.body(torch.cat([x, skip], dim=1))


class MultiPathPredictor(nn.Module):
    """Predicts the next frame (B, C, H, W) in [-1, 1] from frames (B, T, C, H, W).

    Args:
        channels: frame channels.
        base_width: channels of the shallow features and of the finest path; path i (at
            1/2**(i+1)) has ``base_width * 2**i`` channels.
        depth: number of paths (scales 1/2 ... 1/2**depth).
        kernel_sizes: ConvGRU kernel size of each path, finest first (default 3).
        dilations: ConvGRU dilation of each path, finest first (default 1).

    Frames whose sides are not multiples of ``2**depth`` are padded (replicate) and the
    prediction is cropped back.
    """

    def __init__(
        self,
        channels: int,
        base_width: int = 16,
        depth: int = 3,
        kernel_sizes: Sequence[int] | None = None,
        dilations: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        kernel_sizes = [3] * depth if kernel_sizes is None else list(kernel_sizes)
        dilations = [1] * depth if dilations is None else list(dilations)
        if depth < 1 or len(kernel_sizes) != depth or len(dilations) != depth:
            raise ValueError(
                f"need depth >= 1 and one kernel size and dilation per path, got depth={depth}, "
                f"kernel_sizes={kernel_sizes}, dilations={dilations}"
            )
        self.depth = depth
        widths = path_widths(base_width, depth)
        self.encoder = FrameEncoder(channels, widths)
        self.paths = nn.ModuleList(
            ConvGRU(w, w, k, d) for w, k, d in zip(widths[1:], kernel_sizes, dilations, strict=True)
        )
        # coarsest path -> ... -> finest path -> shallow features
        self.up = nn.ModuleList(
            UpBlock(widths[i + 1], widths[i], widths[i]) for i in reversed(range(depth))
        )
        self.head = nn.Conv2d(widths[0], channels, 1)

    def path_states(self, frames: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Encode (B, T, C, H, W) with H, W multiples of 2**depth.

        Returns the last frame's shallow features (B, w0, H, W) and each path's last hidden state,
        finest first: (B, w_i, H / 2**i, W / 2**i) for i = 1 ... depth.
        """
        t = frames.shape[1]  # the batch stays -1: a traced graph keeps it dynamic
        features = self.encoder(frames.flatten(0, 1))
        shallow = features[0].unflatten(0, (-1, t))[:, -1]
        states = [
            path(f.unflatten(0, (-1, t)))[1]
            for path, f in zip(self.paths, features[1:], strict=True)
        ]
        return shallow, states

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        if frames.ndim != 5:
            raise ValueError(f"expected frames (B, T, C, H, W), got shape {tuple(frames.shape)}")
        h, w = frames.shape[-2:]
        m = 2**self.depth
        pad = (0, (-w) % m, 0, (-h) % m)
        if any(pad):
            frames = F.pad(frames.flatten(0, 1), pad, mode="replicate").unflatten(
                0, frames.shape[:2]
            )
        shallow, states = self.path_states(frames)
        skips = [shallow, *states[:-1]]
        y = states[-1]
        for up in self.up:
            y = up(y, skips.pop())
        return torch.tanh(self.head(y))[..., :h, :w]
