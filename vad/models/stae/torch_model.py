"""The 3D-convolutional autoencoder of STAE: one encoder, a reconstruction and a prediction
decoder (Zhao et al., "Spatio-Temporal AutoEncoder for Video Anomaly Detection", ACM MM 2017)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class Conv3d(nn.Conv3d):
    """``nn.Conv3d`` that computes in float32 when CPU autocast would run a clip of exactly two
    time steps in bfloat16: torch's oneDNN bfloat16 weight gradient is wrong for that shape on CPU
    (values up to 1e36 or NaN; depth 1 and 3-16 and transposed convolutions are exact)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[2] == 2 and x.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            with torch.autocast("cpu", enabled=False):
                return super().forward(x.float())
        return super().forward(x)


def encoder_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3x3 convolution + BatchNorm3d + LeakyReLU."""
    return nn.Sequential(
        Conv3d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm3d(out_channels),
        nn.LeakyReLU(0.2, inplace=True),
    )


def decoder_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3x3 transposed convolution doubling time, height and width + BatchNorm3d + LeakyReLU."""
    return nn.Sequential(
        nn.ConvTranspose3d(
            in_channels, out_channels, 3, stride=2, padding=1, output_padding=1, bias=False
        ),
        nn.BatchNorm3d(out_channels),
        nn.LeakyReLU(0.2, inplace=True),
    )


def decoder(widths: Sequence[int], out_channels: int) -> nn.Sequential:
    """Mirror of the encoder: one upsampling block per max-pool, then a 3x3x3 conv and tanh."""
    outs = [*reversed(widths[: len(widths) - 2]), widths[0]]
    ins = [widths[-1], *outs[:-1]]
    blocks = [decoder_block(i, o) for i, o in zip(ins, outs, strict=True)]
    return nn.Sequential(*blocks, Conv3d(widths[0], out_channels, 3, padding=1), nn.Tanh())


class STAE(nn.Module):
    """Maps a clip (B, C, T, H, W) in [-1, 1] to its reconstruction and its next ``T`` frames.

    The encoder has one block per width with a MaxPool3d(2) between consecutive blocks
    (``len(widths) - 1`` pools); both decoders upsample back with transposed convolutions through
    the encoder widths in reverse (default 64 -> 48 -> 32 -> 32). Inputs whose T, H or W are not
    multiples of ``2**pools`` are padded (replicate) and the outputs are cropped back.
    """

    def __init__(self, channels: int, widths: Sequence[int] = (32, 48, 64, 64)) -> None:
        super().__init__()
        if len(widths) < 2:
            raise ValueError(f"STAE needs at least two encoder widths, got {list(widths)}")
        widths = [int(w) for w in widths]
        self.pools = len(widths) - 1
        blocks = [encoder_block(channels, widths[0])]
        for i in range(1, len(widths)):
            blocks += [nn.MaxPool3d(2), encoder_block(widths[i - 1], widths[i])]
        self.encoder = nn.Sequential(*blocks)
        self.reconstruct = decoder(widths, channels)
        self.predict = decoder(widths, channels)

    def forward(self, clip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(reconstruction, prediction), each shaped like ``clip``."""
        t, h, w = clip.shape[-3:]
        m = 2**self.pools
        pad = (0, (-w) % m, 0, (-h) % m, 0, (-t) % m)
        padded = F.pad(clip, pad, mode="replicate") if any(pad) else clip
        code = self.encoder(padded)
        crop = (..., slice(0, t), slice(0, h), slice(0, w))
        return self.reconstruct(code)[crop], self.predict(code)[crop]
