"""Feature banks of the training objects, kNN distances to them, and score calibration (torch).

A ``FeatureBank`` holds one (N, D) tensor per attribute. Its size depends on the training data,
so the tensors are the module's *extra state*: saved in the model's ``state_dict`` (hence in every
checkpoint) and restored into a freshly built module without knowing N. They follow the module
across devices and dtypes (``_apply``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import nn

#: the most distances one ``torch.cdist`` call holds (queries x bank entries)
CHUNK_ELEMENTS = 1 << 24


class FeatureBank(nn.Module):
    """Training features per attribute (``features``: name -> (N, D) float32 tensor)."""

    def __init__(self) -> None:
        super().__init__()
        self.features: dict[str, torch.Tensor] = {}
        # follows the module's device, so that restored banks land there
        self.register_buffer("anchor", torch.zeros(0), persistent=False)

    def fit(self, features: Mapping[str, torch.Tensor]) -> None:
        """Store the training features (each needs at least one row)."""
        empty = [name for name, bank in features.items() if len(bank) == 0]
        if empty:
            raise ValueError(f"no training object for attribute(s) {empty}")
        self.features = {
            name: bank.detach().float().contiguous().to(self.anchor.device)
            for name, bank in features.items()
        }

    def is_fitted(self) -> bool:
        return bool(self.features)

    def distances(self, name: str, query: torch.Tensor, k: int) -> torch.Tensor:
        """(Q,) mean Euclidean distance of each query row to its ``k`` nearest bank rows."""
        return knn_distance(query, self.features[name], k)

    def get_extra_state(self) -> dict[str, torch.Tensor]:
        return {name: bank.cpu() for name, bank in self.features.items()}

    def set_extra_state(self, state: Mapping[str, torch.Tensor] | None) -> None:
        self.features = {k: v.float().to(self.anchor.device) for k, v in (state or {}).items()}

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> nn.Module:
        self.features = {name: fn(bank) for name, bank in self.features.items()}
        return super()._apply(fn, recurse)


def knn_distance(query: torch.Tensor, bank: torch.Tensor, k: int) -> torch.Tensor:
    """(Q,) mean distance of each row of ``query`` (Q, D) to its ``k`` nearest rows of ``bank``
    (N, D), computed in chunks of queries (float32)."""
    k = max(1, min(int(k), len(bank)))
    query, bank = query.float(), bank.to(query.device).float()
    if len(query) == 0:
        return query.new_zeros(0)
    step = max(1, CHUNK_ELEMENTS // max(1, len(bank)))
    parts = []
    for chunk in query.split(step):
        nearest = torch.cdist(chunk, bank).topk(k, dim=1, largest=False).values
        parts.append(nearest.mean(dim=1))
    return torch.cat(parts)


def calibrated(raw: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """An attribute's raw distances as z-scores of its validation distances."""
    return (raw - mean) / std


def combine(
    raw: Mapping[str, torch.Tensor], stats: Mapping[str, tuple[torch.Tensor, torch.Tensor]]
) -> torch.Tensor:
    """The combined object score: the sum of the attributes' calibrated scores, invariant to the
    scale of any attribute's raw distances (``stats``: name -> validation mean and std)."""
    return sum(calibrated(raw[name], *stats[name]) for name in stats)


def empty_score(stats: Mapping[str, tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """The combined score of a frame without objects: one below the lowest score an object can
    have (every distance zero)."""
    zero = {name: torch.zeros_like(mean) for name, (mean, _) in stats.items()}
    return combine(zero, stats) - 1.0
