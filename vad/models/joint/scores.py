"""Score columns of the joint model: flow errors, and the combined score of both streams.

flow_mse         mean squared endpoint error of the predicted flow, in pixels^2 of the
                 cached frame size (absolute: a fast object that moves unlike the prediction
                 scores high)
flow_patch_max   max over k x k average-pooled patches (stride k // 2) of the squared
                 endpoint-error map
combined         sum over the two streams of ``weight * (log e - mean) / std``, where ``e`` is
                 the stream's chosen error column and mean / std are those of ``log e`` on the
                 held-out normal validation videos (``ErrorStats``): each stream counts in
                 units of its own normal variability. Higher = more anomalous.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

FRAME_COLUMNS = ("mse", "patch_max")
FLOW_COLUMNS = ("flow_mse", "flow_patch_max")
#: the error columns whose validation statistics are stored (rows of ``ErrorStats.table``)
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


class ErrorStats:
    """Running mean and std of ``log(error)`` of every ``STAT_COLUMNS`` column over many frames."""

    def __init__(self) -> None:
        self.count = 0
        self.sums = torch.zeros(len(STAT_COLUMNS), dtype=torch.float64)
        self.squares = torch.zeros(len(STAT_COLUMNS), dtype=torch.float64)

    def update(self, errors: Mapping[str, torch.Tensor]) -> None:
        logs = torch.stack([errors[c].detach().double().cpu() for c in STAT_COLUMNS], dim=1)
        logs = logs.clamp_min(LOG_FLOOR).log()
        self.count += len(logs)
        self.sums += logs.sum(dim=0)
        self.squares += (logs**2).sum(dim=0)

    def table(self) -> torch.Tensor:
        """(len(STAT_COLUMNS), 2): mean and std (floored above 0) of each column's log error."""
        mean = self.sums / self.count
        var = (self.squares / self.count - mean**2).clamp_min(0)
        return torch.stack([mean, var.sqrt().clamp_min(1e-6)], dim=1).float()


def combined_score(
    errors: Mapping[str, torch.Tensor], stats: torch.Tensor, weights: Mapping[str, float]
) -> torch.Tensor:
    """``sum_c w_c * (log e_c - mean_c) / std_c`` over the weighted columns -> (N,)."""
    total = None
    for column, weight in weights.items():
        mean, std = stats[STAT_COLUMNS.index(column)]
        z = (errors[column].float().clamp_min(LOG_FLOOR).log() - mean) / std
        total = weight * z if total is None else total + weight * z
    return total
