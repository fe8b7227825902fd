"""Score columns of the joint model: flow errors, and the combined score of both streams.

flow_mse         mean squared endpoint error of the predicted flow, in pixels^2 of the
                 cached frame size (absolute: a fast object that moves unlike the prediction
                 scores high)
flow_patch_max   max over k x k average-pooled patches (stride k // 2) of the squared
                 endpoint-error map
combined         sum over the two streams of ``weight * (log e - mean) / std``, where ``e`` is
                 the stream's chosen error column and mean / std are those of ``log e`` on the
                 held-out normal validation videos (the fitted moment ``log_error``): each
                 stream counts in units of its own normal variability. Higher = more anomalous.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

FRAME_COLUMNS = ("mse", "patch_max")
FLOW_COLUMNS = ("flow_mse", "flow_patch_max")
#: the error columns whose validation statistics are stored (entries of ``log_errors``)
STAT_COLUMNS = FRAME_COLUMNS + FLOW_COLUMNS
LOG_FLOOR = 1e-12


def pooled_max(error_map: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Max over k x k average-pooled patches of (N, 1, H, W) maps -> (N,); k fits the map."""
    k = max(1, min(patch_size, *error_map.shape[-2:]))
    return F.avg_pool2d(error_map, k, stride=max(1, k // 2)).flatten(1).amax(dim=1)


def flow_errors(pred: torch.Tensor, target: torch.Tensor, patch_size: int) -> dict:
    """Errors of flow fields (N, 2, H, W) in pixels -> ``flow_mse``, ``flow_patch_max`` (N,)."""
    epe2 = ((pred.float() - target.float()) ** 2).sum(dim=1, keepdim=True)
    return {"flow_mse": epe2.flatten(1).mean(dim=1), "flow_patch_max": pooled_max(epe2, patch_size)}


def log_errors(errors: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """(N, len(STAT_COLUMNS)): the log of every stored error column (floored above 0); their
    mean and std on the validation videos are the fitted moment ``log_error``."""
    logs = torch.stack([errors[c].detach().double() for c in STAT_COLUMNS], dim=1)
    return logs.clamp_min(LOG_FLOOR).log()


def combined_score(
    errors: Mapping[str, torch.Tensor],
    mean: torch.Tensor,
    std: torch.Tensor,
    weights: Mapping[str, float],
) -> torch.Tensor:
    """``sum_c w_c * (log e_c - mean_c) / std_c`` over the weighted columns -> (N,); ``mean`` and
    ``std`` have one entry per ``STAT_COLUMNS`` column."""
    total = None
    for column, weight in weights.items():
        i = STAT_COLUMNS.index(column)
        mean_c, std_c = mean[i], std[i]
        z = (errors[column].float().clamp_min(LOG_FLOOR).log() - mean_c) / std_c
        total = weight * z if total is None else total + weight * z
    return total
