"""Feature banks of the training objects, kNN distances to them, and score calibration (torch).

A ``FeatureBank`` holds one (N, D) tensor per attribute (or joint group of attributes) and the
std of each of its D feature dimensions over the training objects: distances are measured on
features divided by it, so that no unit (pixels per frame, fractions of the frame, gradient
energy) dominates a distance. Sizes depend on the training data, so the tensors are the module's
*extra state*: saved in the model's ``state_dict`` (hence in every
checkpoint) and restored into a freshly built module without knowing N. They follow the module
across devices and dtypes (``_apply``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from scipy.spatial import cKDTree
from torch import nn

#: banks of at most this many dimensions are searched with a k-d tree on the CPU
TREE_MAX_DIMS = 8
#: the most distances one ``torch.cdist`` call holds (queries x bank entries)
CHUNK_ELEMENTS = 1 << 24


#: a dimension whose std over the training objects is below this keeps its unit (scale 1): a
#: dimension constant in training (e.g. an always empty HOG cell) must not blow distances up
MIN_SCALE = 1e-6


class FeatureBank(nn.Module):
    """Training features per attribute (``features``: name -> (N, D) float32 tensor, already
    divided by ``scales``: name -> (D,) std of each dimension over the training rows)."""

    def __init__(self) -> None:
        super().__init__()
        self.features: dict[str, torch.Tensor] = {}
        self.scales: dict[str, torch.Tensor] = {}
        self.meta: dict[str, torch.Tensor] = {}  # what else the fit learned (the ground line)
        self._trees: dict[str, cKDTree] = {}  # built on first use, never saved
        # follows the module's device, so that restored banks land there
        self.register_buffer("anchor", torch.zeros(0), persistent=False)

    def fit(self, features: Mapping[str, torch.Tensor]) -> None:
        """Store the training features (each needs at least one row) and their scales."""
        empty = [name for name, bank in features.items() if len(bank) == 0]
        if empty:
            raise ValueError(f"no training object for attribute(s) {empty}")
        banks = {n: b.detach().float().to(self.anchor.device) for n, b in features.items()}
        self.scales = {name: feature_scales(bank) for name, bank in banks.items()}
        self._trees = {}
        self.features = {n: (b / self.scales[n]).contiguous() for n, b in banks.items()}

    def is_fitted(self) -> bool:
        return bool(self.features)

    def distances(self, name: str, query: torch.Tensor, k: int) -> torch.Tensor:
        """(Q,) mean Euclidean distance of each query row to its ``k`` nearest bank rows (a
        k-d tree for low-dimensional banks on the CPU, brute force otherwise)."""
        scaled = query.float() / self.scales[name].to(query.device)
        bank = self.features[name]
        if bank.device.type != "cpu" or bank.shape[1] > TREE_MAX_DIMS or len(scaled) == 0:
            return knn_distance(scaled, bank, k)
        if name not in self._trees:
            self._trees[name] = cKDTree(bank.numpy())
        k = max(1, min(int(k), len(bank)))
        found, _ = self._trees[name].query(scaled.cpu().numpy(), k=k)
        found = np.asarray(found, dtype=np.float32).reshape(len(scaled), k)
        return torch.from_numpy(found.mean(axis=1)).to(query.device)

    def get_extra_state(self) -> dict[str, dict[str, torch.Tensor]]:
        return {
            "features": {name: bank.cpu() for name, bank in self.features.items()},
            "scales": {name: scale.cpu() for name, scale in self.scales.items()},
            "meta": {name: value.cpu() for name, value in self.meta.items()},
        }

    def set_extra_state(self, state: Mapping[str, Any] | None) -> None:
        state = dict(state or {})
        if state and "features" not in state:  # banks saved before scales existed: unit scales
            state = {
                "features": state,
                "scales": {k: torch.ones(v.shape[1]) for k, v in state.items()},
            }
        device = self.anchor.device
        self.features = {k: v.float().to(device) for k, v in state.get("features", {}).items()}
        self.scales = {k: v.float().to(device) for k, v in state.get("scales", {}).items()}
        self.meta = {k: v.double() for k, v in state.get("meta", {}).items()}
        self._trees = {}

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> nn.Module:
        self.features = {name: fn(bank) for name, bank in self.features.items()}
        self.scales = {name: fn(scale) for name, scale in self.scales.items()}
        self._trees = {}
        return super()._apply(fn, recurse)


def feature_scales(bank: torch.Tensor) -> torch.Tensor:
    """(D,) std of each dimension of ``bank`` (N, D); 1 where it is below ``MIN_SCALE``."""
    std = bank.std(dim=0, unbiased=False) if len(bank) > 1 else torch.zeros(bank.shape[1])
    return torch.where(std > MIN_SCALE, std, torch.ones_like(std)).to(bank)


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
