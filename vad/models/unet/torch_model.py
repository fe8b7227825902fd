"""The U-Net generator of FFP: encoder conv blocks with max-pooling, decoder with transposed
convolutions and skip concatenation, tanh output."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 conv + BatchNorm + ReLU layers."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """U-Net mapping (B, in_channels, H, W) to (B, out_channels, H, W) in [-1, 1].

    ``depth`` max-pool stages; widths ``base_width * 2**i``. Inputs whose sides are not multiples
    of ``2**depth`` are padded (replicate) and the output is cropped back. ``init_std``: draw
    conv weights from N(0, std) and BatchNorm scales from N(1, std) (the pix2pix/FFP
    initialisation; None keeps PyTorch's defaults).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        base_width: int = 32,
        depth: int = 3,
        init_std: float | None = None,
    ) -> None:
        super().__init__()
        widths = [base_width * 2**i for i in range(depth + 1)]
        self.depth = depth
        self.stem = double_conv(in_channels, widths[0])
        self.down = nn.ModuleList(double_conv(widths[i], widths[i + 1]) for i in range(depth))
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
            for i in reversed(range(depth))
        )
        self.merge = nn.ModuleList(
            double_conv(2 * widths[i], widths[i]) for i in reversed(range(depth))
        )
        self.head = nn.Conv2d(widths[0], out_channels, 1)
        if init_std is not None:
            self.apply(lambda m: normal_init(m, float(init_std)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        m = 2**self.depth
        pad = (0, (-w) % m, 0, (-h) % m)
        if any(pad):
            x = F.pad(x, pad, mode="replicate")
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(F.max_pool2d(skips[-1], 2)))
        y = skips.pop()
        for up, merge in zip(self.up, self.merge, strict=True):
            y = merge(torch.cat([up(y), skips.pop()], dim=1))
        return torch.tanh(self.head(y))[..., :h, :w]


def normal_init(module: nn.Module, std: float) -> None:
    """N(0, std) conv weights, N(1, std) BatchNorm scales and zero BatchNorm shifts."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, std)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, std)
        nn.init.zeros_(module.bias)
