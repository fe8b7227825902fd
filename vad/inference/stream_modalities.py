"""The per-frame arrays a model reads, computed on a stream as frames arrive.

``frames`` are the frames themselves; ``flow`` (``vad.data.flow``) is the dense flow from the
previous frame when its id is the previous id, else ``NO_FLOW``, as ``compute_flow`` stores it;
``boxes`` (``vad.data.regions``) are the motion boxes of frame ``t``, found from frames ``t - 1``,
``t`` and ``t + 1`` by the very function dataset mode uses (``video_boxes``). Motion boxes keep no
background statistics: a box needs its frame's two neighbours and nothing else, so the look-back
window is one frame and the look-ahead one frame. A frame therefore leaves ``push`` one frame
after it arrived (or when its run ends: a gap in the ids, or the end of the stream); the first
and last frame of a run have no box, as in dataset mode.

Boxes at ``resolution: native`` are found on the source's frames before preprocessing stages,
as dataset mode reads them; ``push`` takes that frame as ``native`` (None: the source lacks it,
e.g. a stage interpolated it; it and its neighbours then have no box). One difference remains:
for a three-channel model, the native grey frame of a stream is converted from the colour
decode, while dataset mode decodes JPEG frame files straight to grey (libjpeg's grey decode
can differ by one grey level, which may move a box edge by a pixel). Grey footage, video files
and PNG frames give the same grey image in both modes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vad.data.flow import NO_FLOW, FlowEstimator
from vad.data.regions import region_settings, video_boxes
from vad.errors import DataError

STREAMED_MODALITIES = ("frames", "flow", "boxes")
Ready = tuple[int, dict[str, np.ndarray]]


@dataclass
class HeldFrame:
    """A frame whose boxes wait for the next frame: its id, arrays and the image boxes are
    found on (None: the source lacks it)."""

    id: int
    arrays: dict[str, np.ndarray]
    image: np.ndarray | None
    released: bool = False


class StreamModalities:
    """``push`` a frame and get back the frames whose arrays are complete, in stream order."""

    def __init__(
        self,
        names: Sequence[str],
        flow: Mapping[str, Any] | None = None,
        regions: Mapping[str, Any] | None = None,
    ) -> None:
        unknown = sorted(set(names) - set(STREAMED_MODALITIES))
        if unknown:
            raise DataError(
                f"streaming inference cannot compute the modalities {unknown} "
                f"(supported: {list(STREAMED_MODALITIES)}); score the footage as a dataset "
                "with predict.py data=folder data.root=..."
            )
        self.flow = FlowEstimator(flow) if "flow" in names else None
        self.regions = region_settings(regions) if "boxes" in names else None
        self.previous: tuple[int, np.ndarray] | None = None
        self.held: deque[HeldFrame] = deque(maxlen=3)

    @property
    def native(self) -> bool:
        """Whether boxes are found on the source's native frames (``push``'s ``native``)."""
        return self.regions is not None and self.regions["resolution"] == "native"

    def push(
        self, frame_id: int, frame: np.ndarray, native: np.ndarray | None = None
    ) -> list[Ready]:
        """Add a frame (model input size; ``native``: the source's frame for native boxes)."""
        arrays = {"frames": frame}
        if self.flow is not None:
            arrays["flow"] = self._flow(frame_id, frame)
        self.previous = (frame_id, frame)
        if self.regions is None:
            return [(frame_id, arrays)]
        ready = self.end_run() if self.held and self.held[-1].id != frame_id - 1 else []
        self.held.append(HeldFrame(frame_id, arrays, native if self.native else frame))
        if len(self.held) == 1:  # a run's first frame has no box
            ready.append(self._release(self.held[0], None))
        elif len(self.held) == 3:
            ready.append(self._release(self.held[1], self.held))
        return ready

    def end_run(self) -> list[Ready]:
        """The run's last frame (no box: it has no next frame); the next push starts a run."""
        last = self.held[-1] if self.held else None
        self.held.clear()
        return [self._release(last, None)] if last is not None and not last.released else []

    def _flow(self, frame_id: int, frame: np.ndarray) -> np.ndarray:
        flow = np.full((*frame.shape[:2], 2), NO_FLOW, dtype=np.float16)
        previous = self.previous
        if self.flow is not None and previous is not None and previous[0] == frame_id - 1:
            flow[:] = self.flow(previous[1], frame)
        return flow

    def _release(self, frame: HeldFrame, window: Sequence[HeldFrame] | None) -> Ready:
        """``frame`` with its boxes: from the three frames of ``window``, or none."""
        settings = self.regions or {}
        limit = int(settings["max_boxes"])
        boxes = np.full((limit, 4), np.nan, dtype=np.float32)
        if window is not None:
            boxes = video_boxes([f.image for f in window], settings)[1]
        frame.arrays["boxes"] = boxes
        frame.released = True
        return frame.id, frame.arrays
