"""The one store of what a model learned about its held-out normal validation videos.

Two kinds of statistics, both saved in the model's ``state_dict`` under ``fitted.`` (so every
checkpoint holds those of its own weights, and training resumes with them):

* **moments** a model declares (``VADModule.fitted_moments``: name -> per-sample shape), measured
  over the validation clips of every validation epoch: mean and standard deviation per element,
  the sums reduced over DDP ranks before they are stored (STAE's per-position errors, the joint
  model's per-stream log errors), with the training step they were measured at (``step``: a
  checkpoint saved between validations holds moments of older weights, see
  ``vad.tasks.fitted_moments``);
* **score statistics** of every score column on the validation videos, fitted after training by
  the full scoring path (``vad.scoring.train_stats``) and used by the train-statistics
  normalisations, the alarm threshold and the ensemble.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

#: the smallest standard deviation stored (a constant quantity would divide by zero)
MIN_STD = 1e-6


class FittedStatistics(nn.Module):
    """Buffers ``<name>_mean`` / ``<name>_std`` per declared moment (NaN until fitted) and the
    score statistics (``score_stats``, a JSON-friendly dict, saved as the module's extra state)."""

    def __init__(self, moments: Mapping[str, Sequence[int]] | None = None) -> None:
        super().__init__()
        self.shapes: dict[str, tuple[int, ...]] = {}
        for name, shape in (moments or {}).items():
            self.declare(name, shape)
        self.score_stats: dict[str, Any] | None = None
        self.step: int | None = None  # the training step of the stored moments
        self._sums: dict[str, list[torch.Tensor]] = {}

    def declare(self, name: str, shape: Sequence[int]) -> None:
        """Add a moment of per-sample ``shape`` (its buffers start as NaN: not fitted)."""
        if name in self.shapes:
            raise KeyError(f"fitted moment {name!r} is declared twice")
        self.shapes[name] = tuple(int(v) for v in shape)
        self.register_buffer(f"{name}_mean", torch.full(self.shapes[name], float("nan")))
        self.register_buffer(f"{name}_std", torch.full(self.shapes[name], float("nan")))

    # ---- moments -----------------------------------------------------------------------------
    def reset(self) -> None:
        """Start a new validation epoch."""
        self._sums = {}

    def update(self, name: str, values: torch.Tensor) -> None:
        """Add ``values`` (N, *shape) of moment ``name``: N samples of one validation batch."""
        if name not in self.shapes:
            raise KeyError(f"unknown fitted moment {name!r} (declared: {sorted(self.shapes)})")
        values = values.detach().double().reshape(-1, *self.shapes[name])
        count = torch.tensor(float(len(values)), dtype=torch.float64, device=values.device)
        parts = [values.sum(dim=0), (values**2).sum(dim=0), count]
        if name in self._sums:
            parts = [a + b for a, b in zip(self._sums[name], parts, strict=True)]
        self._sums[name] = parts

    def finish(
        self,
        reduce_sum: Callable[[torch.Tensor], torch.Tensor] = lambda t: t,
        step: int | None = None,
    ) -> None:
        """Store the epoch's moments, measured at training ``step``; ``reduce_sum`` sums a tensor
        over DDP ranks. A moment seen in fewer than two samples (on all ranks together) keeps its
        previous value."""
        for name in self.shapes:
            sums = self._sums.get(name)
            if sums is None:  # this rank saw no sample: it still joins the reduction
                zero = torch.zeros(self.shapes[name], dtype=torch.float64, device=self._device())
                sums = [zero, zero.clone(), zero.new_zeros(())]
            total, squares, count = (reduce_sum(t) for t in sums)
            if float(count) < 2:
                continue
            mean = total / count
            std = (squares / count - mean**2).clamp_min(0).sqrt().clamp_min(MIN_STD)
            getattr(self, f"{name}_mean").copy_(mean.float())
            getattr(self, f"{name}_std").copy_(std.float())
            self.step = step
        self._sums = {}

    def mean(self, name: str) -> torch.Tensor:
        return getattr(self, f"{name}_mean")

    def std(self, name: str) -> torch.Tensor:
        return getattr(self, f"{name}_std")

    def is_fitted(self, name: str) -> bool:
        return bool(torch.isfinite(self.mean(name)).all())

    def unfitted(self) -> list[str]:
        """The declared moments never measured."""
        return [name for name in self.shapes if not self.is_fitted(name)]

    def moments(self) -> dict[str, dict[str, list]]:
        """The fitted moments as plain lists (for reports and JSON)."""
        return {
            name: {"mean": self.mean(name).tolist(), "std": self.std(name).tolist()}
            for name in self.shapes
        }

    def _device(self) -> torch.device:
        buffers = list(self.buffers())
        return buffers[0].device if buffers else torch.device("cpu")

    # ---- score statistics (extra state of the module) ----------------------------------------
    def get_extra_state(self) -> dict[str, Any]:
        return {"score_stats": self.score_stats, "step": self.step}

    def set_extra_state(self, state: Any) -> None:
        self.score_stats = (state or {}).get("score_stats")
        self.step = (state or {}).get("step")  # None in checkpoints older than the record
