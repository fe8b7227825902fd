"""Dense optical flow between consecutive cached frames, stored as the ``flow`` modality.

``flow.npy`` beside ``frames.npy`` is float16 (N, H, W, 2): ``flow[i]`` is the (dx, dy) motion in
pixels *of the cached frame size* from stored frame ``i - 1`` to frame ``i`` (OpenCV convention:
frame ``i - 1`` at ``(x, y)`` moves to ``(x + dx, y + dy)`` in frame ``i``). Values are absolute
displacements, never rescaled per frame, so speed is preserved (running is an anomaly).

Validity: there is no flow into the first frame of a run (position 0, and every frame whose id is
not the previous id + 1, i.e. after a dropped frame); those entries hold ``NO_FLOW`` (zeros) and
``flow_valid(frame_ids)`` is False there. A clip never spans a gap, so in a clip of frames
``f_0..f_{L-1}`` the flows at positions ``1..L-1`` are always valid; position 0 may not be.

Methods (OpenCV, classical, nothing to download): ``farneback`` (default,
``cv2.calcOpticalFlowFarneback``) and ``dis`` (``cv2.DISOpticalFlow``). RGB frames are converted
to grey first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from vad.data.cache import CachedVideo
from vad.data.clips import contiguous_runs
from vad.errors import DataError

FLOW_VERSION = 1
NO_FLOW = 0.0
METHODS = ("farneback", "dis")
DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
FARNEBACK_DEFAULTS = {
    "pyr_scale": 0.5,
    "levels": 3,
    "winsize": 15,
    "iterations": 3,
    "poly_n": 5,
    "poly_sigma": 1.2,
}
DEFAULTS: dict[str, Any] = {
    "method": "farneback",
    "farneback": FARNEBACK_DEFAULTS,
    "dis_preset": "medium",
}


def flow_settings(settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validated, complete flow settings (defaults filled in); they identify the stored flow."""
    given = dict(settings or {})
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise DataError(f"unknown flow setting(s) {unknown} (known: {sorted(DEFAULTS)})")
    out = {**DEFAULTS, **given}
    if out["method"] not in METHODS:
        raise DataError(f"flow method must be one of {METHODS}, got {out['method']!r}")
    farneback = dict(out["farneback"] or {})
    unknown = sorted(set(farneback) - set(FARNEBACK_DEFAULTS))
    if unknown:
        raise DataError(
            f"unknown farneback setting(s) {unknown} (known: {sorted(FARNEBACK_DEFAULTS)})"
        )
    out["farneback"] = {**FARNEBACK_DEFAULTS, **farneback}
    if out["dis_preset"] not in DIS_PRESETS:
        raise DataError(
            f"dis_preset must be one of {sorted(DIS_PRESETS)}, got {out['dis_preset']!r}"
        )
    return out


def flow_valid(frame_ids: np.ndarray) -> np.ndarray:
    """Boolean (N,): True where ``flow[i]`` is a real flow from frame ``i - 1`` (same run)."""
    valid = np.zeros(len(frame_ids), dtype=bool)
    for start, stop in contiguous_runs(frame_ids):
        valid[start + 1 : stop] = True
    return valid


class FlowEstimator:
    """Dense flow between two uint8 frames (H, W) or (H, W, C) -> float32 (H, W, 2)."""

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.settings = flow_settings(settings)
        self._dis = None
        if self.settings["method"] == "dis":
            self._dis = cv2.DISOpticalFlow_create(DIS_PRESETS[self.settings["dis_preset"]])

    def __call__(self, previous: np.ndarray, current: np.ndarray) -> np.ndarray:
        prev, cur = _grey(previous), _grey(current)
        if self._dis is not None:
            return self._dis.calc(prev, cur, None)
        p = self.settings["farneback"]
        return cv2.calcOpticalFlowFarneback(
            prev,
            cur,
            None,
            float(p["pyr_scale"]),
            int(p["levels"]),
            int(p["winsize"]),
            int(p["iterations"]),
            int(p["poly_n"]),
            float(p["poly_sigma"]),
            0,
        )


def compute_flow(
    frames: np.ndarray, frame_ids: np.ndarray, settings: Mapping[str, Any] | None = None
) -> np.ndarray:
    """float16 (N, H, W, 2) flow of stored frames (N, H, W, C); ``NO_FLOW`` at run starts."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.dtype != np.uint8:
        raise DataError(f"flow needs uint8 frames (N, H, W, C), got {frames.dtype} {frames.shape}")
    if len(frame_ids) != len(frames):
        raise DataError(f"{len(frame_ids)} frame ids for {len(frames)} frames")
    estimator = FlowEstimator(settings)
    flow = np.full((*frames.shape[:3], 2), NO_FLOW, dtype=np.float16)
    for i in np.flatnonzero(flow_valid(frame_ids)):
        flow[i] = estimator(frames[i - 1], frames[i])
    return flow


def build_flow(video: CachedVideo, settings: Mapping[str, Any]) -> np.ndarray:
    """The ``flow`` modality builder (see ``vad.data.modalities``)."""
    try:
        return compute_flow(video.frames, video.frame_ids, settings)
    except DataError as exc:
        raise DataError(f"video {video.video} ({video.source}): {exc}") from exc


def _grey(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return np.ascontiguousarray(frame)
    if frame.shape[-1] == 1:
        return np.ascontiguousarray(frame[..., 0])
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
