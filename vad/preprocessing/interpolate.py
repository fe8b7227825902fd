"""Single dropped frames: a frame is interpolated into the gap, as model input only.

Clips never span a gap in the frame ids, so one dropped frame otherwise leaves the frames after it
without a full input window (they are then filled from the nearest scored frame). With a frame
interpolated at the missing id the clips run through. Interpolated frames are stored in the cache
but never scored: score files keep exactly the source's frames. Notes: ``interpolated`` (1 on the
inserted frames) and ``gap_filled`` (1 on the source frame right after an inserted one).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from vad.data.stages import Frame, FrameStage
from vad.errors import DataError
from vad.preprocessing.temporal import predict_between

METHODS = ("flow", "blend")


class GapInterpolator(FrameStage):
    """Inserts the missing frame of each gap of exactly one id.

    Args:
        splits: splits the stage runs on.
        method: ``flow`` (motion-compensated: both neighbours warped halfway along the dense
            optical flow between them, then averaged) or ``blend`` (the plain average).
    """

    def __init__(self, splits: Sequence[str] = ("train", "test"), method: str = "flow") -> None:
        if method not in METHODS:
            raise DataError(f"interpolation method must be one of {METHODS}, got {method!r}")
        self.splits, self.method = tuple(splits), method

    def cache_key(self) -> dict[str, Any]:
        return {**super().cache_key(), "method": self.method}

    def __call__(self, frames: Iterator[Frame], video: str) -> Iterator[Frame]:
        previous: Frame | None = None
        for frame in frames:
            gap = previous is not None and frame.id - previous.id == 2
            if gap:
                image = interpolate(previous.image, frame.image, self.method)
                yield Frame(frame.id - 1, image, {"interpolated": 1, "gap_filled": 0})
            frame.info["interpolated"], frame.info["gap_filled"] = 0, int(gap)
            yield frame
            previous = frame


def interpolate(before: np.ndarray, after: np.ndarray, method: str = "flow") -> np.ndarray:
    """The frame halfway between two frames."""
    if method == "blend":
        mean = (before.astype(np.uint16) + after.astype(np.uint16) + 1) // 2
        return mean.astype(np.uint8)
    return np.clip(predict_between(before, after, 0.5), 0, 255).round().astype(np.uint8)
