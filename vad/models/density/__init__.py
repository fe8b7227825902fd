"""Object-level motion and appearance density (after AI-VAD, Reiss & Hoshen 2023), offline."""

from vad.models.density.bank import FeatureBank
from vad.models.density.features import ObjectFeatures
from vad.models.density.lightning_model import DensityModule

__all__ = ["DensityModule", "FeatureBank", "ObjectFeatures"]
