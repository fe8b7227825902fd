"""Per-frame prediction/reconstruction errors, the raw columns every model emits.

Errors are computed on images mapped to [0, 1]:
    mse        mean squared error over pixels and channels
    psnr       10 * log10(1 / mse), as in FFP (Liu et al., CVPR 2018); *lower* = more anomalous
    patch_max  max over k x k average-pooled patches of the squared-error map: a local anomaly
               (a small fast object) is not diluted by a large normal background
"""

from __future__ import annotations

import pandas as pd
import torch
import torch.nn.functional as F

#: Raw columns whose larger values mean *less* anomalous; scores use their negation.
LOWER_IS_ANOMALOUS = {"psnr"}
ERROR_COLUMNS = ("mse", "psnr", "patch_max")


def frame_errors(pred: torch.Tensor, target: torch.Tensor, patch_size: int = 16) -> dict:
    """Errors per frame for images in [-1, 1] of shape (N, C, H, W) -> dict of (N,) tensors."""
    diff = ((pred.float() - target.float()) / 2) ** 2  # [-1, 1] -> [0, 1] scale
    error_map = diff.mean(dim=1, keepdim=True)
    mse = error_map.flatten(1).mean(dim=1)
    k = max(1, min(patch_size, *error_map.shape[-2:]))
    patch = F.avg_pool2d(error_map, k, stride=max(1, k // 2))
    return {
        "mse": mse,
        "psnr": 10 * torch.log10(1 / mse.clamp_min(1e-10)),
        "patch_max": patch.flatten(1).amax(dim=1),
    }


def anomaly_score(scores: pd.DataFrame, column: str) -> pd.Series:
    """A score column oriented so that higher = more anomalous."""
    if column not in scores.columns:
        raise KeyError(column)
    values = scores[column].astype(float)
    return -values if column in LOWER_IS_ANOMALOUS else values
