"""Learning-rate schedules that need the total number of optimiser steps."""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


class WarmupCosine(LambdaLR):
    """Linear warm-up for ``warmup_steps``, then cosine decay to ``min_ratio`` x the base rate."""

    def __init__(
        self,
        optimizer: Optimizer,
        total_steps: int,
        warmup_steps: int = 100,
        min_ratio: float = 0.05,
    ) -> None:
        self.total_steps, self.warmup_steps = max(1, int(total_steps)), int(warmup_steps)
        self.min_ratio = min_ratio
        super().__init__(optimizer, self.factor)

    def factor(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        span = max(1, self.total_steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / span)
        return self.min_ratio + (1 - self.min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
