"""Per-location normalisation of error maps: always-hard places stop dominating the score.

Some places err on every normal frame (trees, texture, the frame border), so a frame's largest
error patch is often one of them. Every validation epoch measures, per patch of the error map
(k x k average pooling with stride k // 2, k = the model's ``patch_size`` when it was built), the
mean and standard deviation of the *log* patch error over the held-out normal clips (the fitted
moment ``location_error``). The score column

    location_z   max over patches of (log e_patch - mean_patch) / std_patch

then asks how unusual each place's error is *for that place*. The log makes the errors close to
Gaussian and the std floor (``MIN_STD``) keeps never-changing places from amplifying noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

MOMENT = "location_error"
COLUMN = "location_z"
#: floor of the per-patch std of log errors: 0.1 = a 10% change is one standard deviation
MIN_STD = 0.1
LOG_FLOOR = 1e-8


def pooling(image_size: Sequence[int], patch_size: int) -> tuple[int, int]:
    """Kernel and stride of the location grid for frames of ``image_size``."""
    k = max(1, min(int(patch_size), *(int(v) for v in image_size)))
    return k, max(1, k // 2)


def grid_shape(image_size: Sequence[int], patch_size: int) -> tuple[int, int]:
    """(rows, columns) of the location grid."""
    k, stride = pooling(image_size, patch_size)
    return tuple((int(v) - k) // stride + 1 for v in image_size)


def log_patch_errors(maps: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """(N, 1, H, W) squared-error maps -> (N, rows, columns) log patch errors."""
    pooled = F.avg_pool2d(maps.float(), kernel, stride=stride)[:, 0]
    return pooled.clamp_min(LOG_FLOOR).log()


def location_z(
    maps: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, kernel: int, stride: int
) -> torch.Tensor:
    """(N,) ``location_z`` of (N, 1, H, W) error maps given the per-patch moments."""
    z = (log_patch_errors(maps, kernel, stride) - mean) / std.clamp_min(MIN_STD)
    return z.flatten(1).amax(dim=1)
