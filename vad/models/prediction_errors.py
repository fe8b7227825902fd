"""Per-pixel and per-frame prediction/reconstruction errors, the raw columns every model emits.

Errors are computed on images mapped to [0, 1]:
    mse        mean squared error over pixels and channels
    psnr       10 * log10(1 / mse), as in FFP (Liu et al., CVPR 2018); *lower* = more anomalous,
               so its anomaly score is the negated PSNR
    patch_max  max over k x k average-pooled patches (stride k // 2) of the squared-error map: a
               local anomaly (a small fast object) is not diluted by a large normal background;
               k is the model's ``patch_size`` (``scoring.patch_size`` overrides it at scoring time)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def error_map(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared error per pixel in [0, 1] scale, averaged over channels: (N, C, H, W) -> (N, 1, H, W)
    for images in [-1, 1]."""
    diff = ((pred.float() - target.float()) / 2) ** 2
    return diff.mean(dim=1, keepdim=True)


def patch_max(errors: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Max over k x k average-pooled patches (stride k // 2) of (N, 1, H, W) error maps -> (N,).

    k is clipped to the map size, so a patch never exceeds the frame.
    """
    if patch_size < 1:
        raise ValueError(f"patch_size must be >= 1, got {patch_size}")
    k = max(1, min(patch_size, *errors.shape[-2:]))
    pooled = F.avg_pool2d(errors, k, stride=max(1, k // 2))
    return pooled.flatten(1).amax(dim=1)


def frame_errors(pred: torch.Tensor, target: torch.Tensor, patch_size: int = 16) -> dict:
    """Errors per frame for images in [-1, 1] of shape (N, C, H, W) -> dict of (N,) tensors."""
    errors = error_map(pred, target)
    mse = errors.flatten(1).mean(dim=1)
    return {
        "mse": mse,
        "psnr": 10 * torch.log10(1 / mse.clamp_min(1e-10)),
        "patch_max": patch_max(errors, patch_size),
    }
