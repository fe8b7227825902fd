"""What a model is to the rest of vad, declared once on its class (``VADModule.contract``).

The tasks, the scorer, the ensemble and the benchmarks read it instead of asking the user:
which score column is the model's own (``scoring.column: null`` means this one), which per-frame
modalities it needs from the data, and whether it learns by gradients over epochs or is fitted
in one pass (no optimiser, one training batch; the trainer is set up for that).
"""

from __future__ import annotations

from dataclasses import dataclass

#: raw columns whose larger values mean *less* anomalous (scores use their negation)
LOWER_IS_ANOMALOUS = frozenset({"psnr"})


@dataclass(frozen=True)
class ModelContract:
    """A model's promises and needs.

    Args:
        score_column: the column ``scoring.column: null`` evaluates (the published method's).
        modalities: per-frame arrays its clips carry (``frames``, ``flow``, ``boxes``).
        one_pass: fitted in one pass over the training videos, without gradients: no
            optimiser, one training batch, one epoch.
    """

    score_column: str = "psnr"
    modalities: tuple[str, ...] = ("frames",)
    one_pass: bool = False

    @property
    def higher_is_anomalous(self) -> bool:
        """Orientation of the default column (PSNR: lower values are anomalous)."""
        return self.score_column not in LOWER_IS_ANOMALOUS

    def modalities_with(self, boxes: bool) -> tuple[str, ...]:
        """The modalities, plus the motion boxes when ``boxes`` (region scores, object crops)."""
        if boxes and "boxes" not in self.modalities:
            return (*self.modalities, "boxes")
        return self.modalities

    def describe(self) -> dict[str, object]:
        """The contract as stored beside a run's scores."""
        return {
            "score_column": self.score_column,
            "higher_is_anomalous": self.higher_is_anomalous,
            "modalities": list(self.modalities),
            "one_pass": self.one_pass,
        }


def model_name(model: object) -> str:
    """A model's short name: its package under ``vad.models`` (``unet``), else its class name."""
    module = type(model).__module__.split(".")
    if module[:2] == ["vad", "models"] and len(module) > 2:
        return module[2]
    return type(model).__name__.lower()
