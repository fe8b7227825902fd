"""Motion regions: boxes around what moves, found without a detector (the ``boxes`` modality).

As HF2-VAD's ``getFgBboxes`` (Liu et al., ICCV 2021): frames t-1, t and t+1 are blurred, the
absolute differences |t - (t-1)| + |(t+1) - t| thresholded, and the external contours of the
foreground become boxes; boxes smaller than ``min_area`` pixels or longer than ``max_aspect``
times their width (or height) are dropped, the rest padded by ``pad`` pixels. The paper's Ped2
values (blur 3, threshold 18, min area 10 x 10, aspect 10, pad 2) are the defaults.

Boxes are found on the source's frames at their *native* resolution (``resolution: native``: a
cyclist is ~20 x 30 pixels in Ped2, 4 x 6 in a 64 x 64 cache), or on the cached frames
(``resolution: cache``, after preprocessing stages). They are stored per cached frame as
``(max_boxes, 4)`` rows of ``x0, y0, x1, y1`` in [0, 1] (fractions of the width and height; NaN
rows pad), the largest boxes first; a frame the source lacks (a stage interpolated it) or the
first and last frame of a run (no neighbour) has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from vad.data.cache import CachedVideo
from vad.data.clips import contiguous_runs
from vad.data.sources import open_source
from vad.errors import DataError

DEFAULTS = {
    "resolution": "native",  # native | cache
    "blur": 3,
    "threshold": 18,
    "min_area": 100,
    "max_aspect": 10.0,
    "pad": 2,
    "max_boxes": 16,
}
VERSION = 1


def region_settings(given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validated box settings (``data.regions``), defaults filled in."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(DEFAULTS))
    settings = {**DEFAULTS, **given}
    bad = (
        unknown
        or settings["resolution"] not in ("native", "cache")
        or int(settings["blur"]) < 1
        or int(settings["blur"]) % 2 == 0
        or not 0 <= int(settings["threshold"]) <= 255
        or int(settings["min_area"]) < 1
        or float(settings["max_aspect"]) < 1
        or int(settings["pad"]) < 0
        or int(settings["max_boxes"]) < 1
    )
    if bad:
        raise DataError(
            f"data.regions={given} is invalid: keys {sorted(DEFAULTS)}, resolution native|cache, "
            "odd blur >= 1, threshold 0-255, min_area >= 1, max_aspect >= 1, pad >= 0, "
            "max_boxes >= 1"
        )
    return settings


def motion_boxes(
    before: np.ndarray, frame: np.ndarray, after: np.ndarray, settings: Mapping[str, Any]
) -> np.ndarray:
    """(K, 4) pixel boxes ``x0, y0, x1, y1`` (exclusive ends) of what moves in ``frame``, given
    its neighbours (grey uint8 images of one size), largest first."""
    k = int(settings["blur"])
    blurred = [
        cv2.GaussianBlur(_grey(f), (k, k), 0) if k > 1 else _grey(f) for f in (before, frame, after)
    ]
    moving = cv2.add(cv2.absdiff(blurred[1], blurred[0]), cv2.absdiff(blurred[2], blurred[1]))
    _, mask = cv2.threshold(moving, int(settings["threshold"]), 255, cv2.THRESH_BINARY)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    height, width = mask.shape
    pad, boxes = int(settings["pad"]), []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if (w + 1) * (h + 1) <= int(settings["min_area"]):
            continue
        if max(w / h, h / w) >= float(settings["max_aspect"]):
            continue
        boxes.append(
            (max(0, x - pad), max(0, y - pad), min(width, x + w + pad), min(height, y + h + pad))
        )
    boxes.sort(key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)
    return np.asarray(boxes, dtype=np.float32).reshape(-1, 4)


def video_boxes(frames: list[np.ndarray | None], settings: Mapping[str, Any]) -> np.ndarray:
    """(N, max_boxes, 4) boxes in [0, 1] of consecutive ``frames`` (None: a frame to skip; its
    neighbours then have no box either)."""
    limit = int(settings["max_boxes"])
    out = np.full((len(frames), limit, 4), np.nan, dtype=np.float32)
    for i in range(1, len(frames) - 1):
        window = frames[i - 1 : i + 2]
        if any(f is None for f in window):
            continue
        boxes = motion_boxes(*window, settings)[:limit]
        height, width = window[1].shape[:2]
        out[i, : len(boxes)] = boxes / np.array([width, height, width, height], dtype=np.float32)
    return out


def build_boxes(video: CachedVideo, settings: Mapping[str, Any]) -> np.ndarray:
    """The ``boxes`` modality builder (see ``vad.data.modalities``)."""
    ids = np.asarray(video.frame_ids)
    if settings["resolution"] == "cache":
        frames: list[np.ndarray | None] = list(np.asarray(video.frames))
    else:
        frames = native_frames(video)
    boxes = np.full((len(ids), int(settings["max_boxes"]), 4), np.nan, dtype=np.float32)
    for start, stop in contiguous_runs(ids):  # never across a gap
        boxes[start:stop] = video_boxes(frames[start:stop], settings)
    return boxes


def native_frames(video: CachedVideo) -> list[np.ndarray | None]:
    """The source's grey frames at their native size, one per cached frame (None for a frame the
    source lacks, e.g. one a stage interpolated)."""
    wanted = {int(i): n for n, i in enumerate(np.asarray(video.frame_ids))}
    frames: list[np.ndarray | None] = [None] * len(wanted)
    try:
        for frame_id, image in open_source(video.source).iter_frames(1):
            if int(frame_id) in wanted:
                frames[wanted[int(frame_id)]] = image
    except DataError as exc:
        raise DataError(f"video {video.video}: motion boxes: {exc}") from exc
    return frames


def _grey(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return image.reshape(image.shape[:2])
