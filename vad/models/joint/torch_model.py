"""Two-stream appearance + motion predictor: the next frame and the flow into it.

An appearance encoder reads the last ``history`` frames stacked on channels; a narrower motion
encoder reads the flow of the last input step. Their deepest features are fused; a U-Net decoder
with skip connections from the appearance encoder only feeds two heads: the next frame (tanh, in
[-1, 1]) and the flow into it (linear, in the units of the input flow). Motion enters only at the
coarsest scale, so the flow head cannot copy the input flow pixel by pixel: it must predict motion
from what the scene looks like and how it moved, which it learns for normal motion only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vad.models.unet.torch_model import double_conv


class Encoder(nn.Module):
    """``depth`` max-pool stages of double convolutions; returns the features of every scale."""

    def __init__(self, in_channels: int, base_width: int, depth: int) -> None:
        super().__init__()
        self.widths = [base_width * 2**i for i in range(depth + 1)]
        self.stem = double_conv(in_channels, self.widths[0])
        self.down = nn.ModuleList(
            double_conv(self.widths[i], self.widths[i + 1]) for i in range(depth)
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = [self.stem(x)]
        for block in self.down:
            features.append(block(F.max_pool2d(features[-1], 2)))
        return features


class JointNet(nn.Module):
    """(frames (B, history*C, H, W), flow (B, 2, H, W)) -> (frame (B, C, H, W), flow (B, 2, H, W)).

    Sides that are not multiples of ``2**depth`` are padded (replicate) and the outputs cropped.
    """

    def __init__(
        self,
        frame_channels: int,
        history: int,
        base_width: int = 16,
        motion_width: int = 8,
        depth: int = 3,
    ) -> None:
        super().__init__()
        self.depth = depth
        self.appearance = Encoder(history * frame_channels, base_width, depth)
        self.motion = Encoder(2, motion_width, depth)
        widths = self.appearance.widths
        bottom = widths[-1] + self.motion.widths[-1]
        self.fuse = double_conv(bottom, widths[-1])
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
            for i in reversed(range(depth))
        )
        self.merge = nn.ModuleList(
            double_conv(2 * widths[i], widths[i]) for i in reversed(range(depth))
        )
        self.frame_head = nn.Conv2d(widths[0], frame_channels, 1)
        self.flow_head = nn.Sequential(
            nn.Conv2d(widths[0], widths[0], 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(widths[0], 2, 1),
        )

    def forward(
        self, frames: torch.Tensor, flow: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = frames.shape[-2:]
        m = 2**self.depth
        pad = (0, (-w) % m, 0, (-h) % m)
        if any(pad):
            frames, flow = F.pad(frames, pad, mode="replicate"), F.pad(flow, pad, mode="replicate")
        skips = self.appearance(frames)
        y = self.fuse(torch.cat([skips.pop(), self.motion(flow)[-1]], dim=1))
        for up, merge in zip(self.up, self.merge, strict=True):
            y = merge(torch.cat([up(y), skips.pop()], dim=1))
        frame = torch.tanh(self.frame_head(y))[..., :h, :w]
        return frame, self.flow_head(y)[..., :h, :w]
