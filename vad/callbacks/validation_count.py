"""A callback that acts at every N-th validation of a run, counted across epochs (a step budget
validates every N steps, several times an epoch on long footage)."""

from __future__ import annotations

from typing import Any

from lightning.pytorch.callbacks import Callback


class EveryNValidations(Callback):
    """Counts the validations it sees; ``due()`` after every ``every_n``-th. The count is part of
    the checkpoint, so that a resumed run keeps the schedule."""

    def __init__(self, every_n: int) -> None:
        self.every_n, self.validations = int(every_n), 0

    def due(self) -> bool:
        """Count this validation; whether it is an every-N-th one."""
        self.validations += 1
        return self.validations % self.every_n == 0

    def state_dict(self) -> dict[str, int]:
        return {"validations": self.validations}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.validations = int(state_dict.get("validations", 0))
