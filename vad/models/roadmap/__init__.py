"""ROADMAP-lite: multi-path ConvGRU frame predictor with a noise-tolerance loss (Wang et al.,
IEEE TNNLS 2021, arXiv 2011.02763)."""

from vad.models.roadmap.lightning_model import RoadmapModule
from vad.models.roadmap.torch_model import MultiPathPredictor

__all__ = ["MultiPathPredictor", "RoadmapModule"]
