"""Region scores: each model's error inside the motion regions of a frame (``vad.data.regions``).

A frame's boxes come with its clip (the ``boxes`` modality). For every box the mean of the
model's squared-error map inside it is taken; its log is standardised by the mean and std of the
log box errors on the held-out normal validation clips (the fitted moment ``region_error``), and

    region   max over the frame's boxes of (log e_box - mean) / std

A frame without a box scores as a box without error: the lowest score. ``region_map`` paints
each box with its score (the largest where boxes overlap; elsewhere the lowest score): the
region scores as a per-pixel map, evaluated beside the error map when masks exist.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

MOMENT = "region_error"
COLUMN = "region"
MIN_STD = 0.1
LOG_FLOOR = 1e-8


def box_errors(maps: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Mean of (N, H, W) maps inside (N, K, 4) boxes ``x0, y0, x1, y1`` in [0, 1] -> (N, K);
    NaN for NaN (padding) boxes. A box covers at least one map pixel."""
    n, height, width = maps.shape
    integral = F.pad(maps.float().cumsum(1).cumsum(2), (1, 0, 1, 0))  # (N, H + 1, W + 1)
    valid = torch.isfinite(boxes).all(dim=-1)
    b = torch.nan_to_num(boxes.float(), nan=0.0)
    x0 = (b[..., 0] * width).floor().clamp(0, width - 1).long()
    y0 = (b[..., 1] * height).floor().clamp(0, height - 1).long()
    x1 = torch.maximum((b[..., 2] * width).ceil().long(), x0 + 1).clamp(max=width)
    y1 = torch.maximum((b[..., 3] * height).ceil().long(), y0 + 1).clamp(max=height)
    rows = torch.arange(n, device=maps.device)[:, None].expand_as(x0)

    def corner(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return integral[rows, y, x]

    total = corner(y1, x1) - corner(y0, x1) - corner(y1, x0) + corner(y0, x0)
    mean = total / ((x1 - x0) * (y1 - y0)).float()
    return torch.where(valid, mean, torch.full_like(mean, float("nan")))


def log_box_errors(maps: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """The log errors of the real boxes of a batch, flattened (for the fitted moment)."""
    errors = box_errors(maps, boxes)
    return errors[torch.isfinite(errors)].clamp_min(LOG_FLOOR).log()


def region_z(
    maps: torch.Tensor, boxes: torch.Tensor, mean: torch.Tensor, std: torch.Tensor
) -> torch.Tensor:
    """(N,) ``region`` scores of (N, H, W) maps with (N, K, 4) boxes."""
    errors = torch.nan_to_num(box_errors(maps, boxes), nan=0.0).clamp_min(LOG_FLOOR)
    z = (errors.log() - mean) / std.clamp_min(MIN_STD)
    return z.amax(dim=1) if z.shape[1] else torch.full(z.shape[:1], float("-inf"))


def region_map(
    maps: torch.Tensor, boxes: torch.Tensor, mean: torch.Tensor, std: torch.Tensor
) -> torch.Tensor:
    """(N, H, W): every pixel of a box holds the box's ``region`` score, other pixels the score
    of a box without error."""
    n, height, width = maps.shape
    errors = torch.nan_to_num(box_errors(maps, boxes), nan=0.0).clamp_min(LOG_FLOOR)
    z = (errors.log() - mean) / std.clamp_min(MIN_STD)  # (N, K)
    floor = (torch.log(torch.tensor(LOG_FLOOR, device=maps.device)) - mean) / std.clamp_min(MIN_STD)
    out = torch.full((n, height, width), float(floor), device=maps.device)
    b = boxes.float()
    ys = (torch.arange(height, device=maps.device) + 0.5) / height
    xs = (torch.arange(width, device=maps.device) + 0.5) / width
    for k in range(boxes.shape[1]):
        x0, y0, x1, y1 = (b[:, k, i, None, None] for i in range(4))
        inside = (ys[:, None] >= y0) & (ys[:, None] < y1) & (xs[None] >= x0) & (xs[None] < x1)
        out = torch.where(inside, torch.maximum(out, z[:, k, None, None]), out)
    return out
