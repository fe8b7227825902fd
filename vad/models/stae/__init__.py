"""STAE: spatio-temporal autoencoder with reconstruction and prediction branches."""

from vad.models.stae.lightning_model import STAEModule
from vad.models.stae.torch_model import STAE

__all__ = ["STAE", "STAEModule"]
