"""Frame preprocessing stages, run once per video when the frame cache is built."""

from vad.data.stages import Frame, FrameStage

__all__ = ["Frame", "FrameStage"]
