"""Joint appearance + motion predictor: next frame and next optical flow (two-stream, after AMC,
Nguyen & Meunier, ICCV 2019)."""

from vad.models.joint.lightning_model import JointModule
from vad.models.joint.torch_model import JointNet

__all__ = ["JointModule", "JointNet"]
