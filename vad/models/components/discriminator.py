"""PatchGAN discriminator (Isola et al., CVPR 2017), as used by FFP's adversarial training."""

from __future__ import annotations

import torch
from torch import nn


class PatchDiscriminator(nn.Module):
    """Stride-2 4x4 convolutions with LeakyReLU; outputs one realness logit per image patch."""

    def __init__(self, in_channels: int, width: int = 32, layers: int = 3) -> None:
        super().__init__()
        blocks: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        channels = width
        for i in range(1, layers):
            out = width * 2 ** min(i, 3)
            blocks += [
                nn.Conv2d(channels, out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(out),
                nn.LeakyReLU(0.2, True),
            ]
            channels = out
        blocks.append(nn.Conv2d(channels, 1, 3, 1, 1))
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
