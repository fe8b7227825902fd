"""Annotated videos: each frame with its error heatmap blended in and a score bar below it.

The bar spans the range of scores seen so far (and the threshold); its fill is green below the
threshold and red above it, where the frame also gets a red border. Frames that no clip scored
(the warm-up frames of a run) show an empty grey bar. Files are written atomically.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from vad.errors import VADError
from vad.io.atomic import atomic_path

FOURCC = {".mp4": "mp4v", ".avi": "MJPG"}
GREEN, RED, GREY, WHITE = (60, 180, 75), (40, 40, 230), (90, 90, 90), (255, 255, 255)  # BGR


class ScoreRange:
    """The displayed score range: every score seen so far, the threshold and a margin above it."""

    def __init__(self, threshold: float, low: float | None = None) -> None:
        self.threshold = float(threshold)
        self.low = self.high = None if low is None else float(low)
        if low is not None:
            self.add(low)

    def add(self, score: float) -> None:
        if not math.isfinite(score):
            return
        self.low = score if self.low is None else min(self.low, score)
        self.high = score if self.high is None else max(self.high, score)

    def fraction(self, value: float) -> float:
        """``value``'s position in [0, 1] along the bar."""
        low = min(self.low if self.low is not None else self.threshold, self.threshold)
        span = max(self.threshold - low, 1e-12)
        high = max(self.high if self.high is not None else low, self.threshold + span)
        return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def heat_layer(error: np.ndarray, size: tuple[int, int], scale: float) -> tuple:
    """(BGR heat image, per-pixel weight in [0, 1]) of an error map resized to (width, height)."""
    resized = cv2.resize(error.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    weight = np.clip(resized / max(scale, 1e-12), 0.0, 1.0)
    heat = cv2.applyColorMap((weight * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)
    return heat, weight[..., None]


def annotate_frame(
    image: np.ndarray,
    error: np.ndarray | None,
    score: float | None,
    scores: ScoreRange,
    heat_scale: float,
    alpha: float = 0.6,
) -> np.ndarray:
    """A BGR frame (even width and height) with the heatmap and the score bar below it.

    ``image`` is grey (H, W) / (H, W, 1) or RGB (H, W, 3) uint8; ``error`` a squared-error map of
    any size, or None.
    """
    bgr = _to_bgr(image)
    h, w = bgr.shape[:2]
    if error is not None:
        heat, weight = heat_layer(error, (w, h), heat_scale)
        bgr = (bgr * (1 - alpha * weight) + heat * (alpha * weight)).astype(np.uint8)
    over = score is not None and math.isfinite(score) and score > scores.threshold
    if over:
        cv2.rectangle(bgr, (0, 0), (w - 1, h - 1), RED, max(2, w // 100))
    bar = _score_bar(w, score, scores, over)
    return _even(np.vstack([bgr, bar]))


def _score_bar(width: int, score: float | None, scores: ScoreRange, over: bool) -> np.ndarray:
    height = max(14, round(width * 0.07))
    bar = np.full((height, width, 3), 30, np.uint8)
    known = score is not None and math.isfinite(score)
    if known:
        fill = round(scores.fraction(score) * (width - 1))
        cv2.rectangle(bar, (0, 2), (fill, height - 3), RED if over else GREEN, -1)
    else:
        cv2.rectangle(bar, (0, 2), (width - 1, height - 3), GREY, 1)
    tick = round(scores.fraction(scores.threshold) * (width - 1))
    cv2.line(bar, (tick, 0), (tick, height - 1), WHITE, 1)
    text = f"{score:.3g}" + (" ANOMALY" if over else "") if known else "no score"
    font = max(0.3, height / 40)
    cv2.putText(bar, text, (3, height - 4), cv2.FONT_HERSHEY_SIMPLEX, font, WHITE, 1, cv2.LINE_AA)
    return bar


def _to_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3 and image.shape[-1] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    grey = image[..., 0] if image.ndim == 3 else image
    return cv2.cvtColor(np.ascontiguousarray(grey), cv2.COLOR_GRAY2BGR)


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad to an even width and height (video encoders need it)."""
    h, w = frame.shape[:2]
    return cv2.copyMakeBorder(frame, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)


class AnnotatedVideoWriter:
    """Writes annotated frames to ``path`` (``.mp4``: mp4v, ``.avi``: MJPG), atomically: the file
    appears only when the writer is closed without an error."""

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path, self.fps = Path(path), float(fps)
        if self.path.suffix not in FOURCC:
            raise VADError(f"{self.path}: annotated video must be one of {sorted(FOURCC)}")
        self.frames = 0
        self._stack = ExitStack()
        self._tmp: Path | None = None
        self._writer: cv2.VideoWriter | None = None

    def __enter__(self) -> AnnotatedVideoWriter:
        self._tmp = self._stack.enter_context(atomic_path(self.path, suffix=self.path.suffix))
        return self

    def write(self, frame: np.ndarray) -> None:
        if self._writer is None:
            h, w = frame.shape[:2]
            fourcc = cv2.VideoWriter_fourcc(*FOURCC[self.path.suffix])
            self._writer = cv2.VideoWriter(str(self._tmp), fourcc, self.fps, (w, h))
            if not self._writer.isOpened():
                raise VADError(f"{self.path}: cannot open a {FOURCC[self.path.suffix]} writer")
        self._writer.write(frame)
        self.frames += 1

    def __exit__(
        self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._writer is not None:
            self._writer.release()
        self._stack.__exit__(exc_type, exc, tb)
