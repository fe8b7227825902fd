"""U-Net future-frame predictor (FFP, Liu et al., CVPR 2018)."""

from vad.models.unet.lightning_model import UNetModule
from vad.models.unet.torch_model import UNet

__all__ = ["UNet", "UNetModule"]
