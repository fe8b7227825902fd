"""The stage protocol the preprocessing stages implement; it lives in the data layer
(``vad.data.stages``), which runs the stages it is handed without importing them."""

from vad.data.stages import Frame, FrameStage

__all__ = ["Frame", "FrameStage"]
