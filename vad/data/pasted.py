"""A pasted moving object: a local pseudo-anomaly for normal footage.

A sped-up segment (``vad.scoring.pseudo_anomaly``) changes the whole scene at once; most real
anomalies are one object among normal ones (a cyclist among walkers). Here one of the video's own
moving objects (the patch that differs most from the video's median frame) is cut out and pasted
into a segment of consecutive frames, gliding across the scene at ``speed`` frame widths per
frame along the row it was found at, with feathered edges (no hard seam to give it away).

Geometry is kept in relative coordinates, so the same object can be rendered into the cached
frames and into the source frames at their native size (for motion boxes found there).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

#: frames sampled (evenly) to find the most visible moving object
SEARCH_FRAMES = 24


@dataclass(frozen=True)
class PastedObject:
    """An object cut from frame ``source`` at the relative box ``box`` (x0, y0, x1, y1) and
    pasted, top-left at ``path[i]`` (relative x, y), into frame ``start + i``."""

    source: int
    box: tuple[float, float, float, float]
    start: int
    path: np.ndarray

    @property
    def span(self) -> int:
        return len(self.path)

    def labels(self, length: int) -> np.ndarray:
        """1 for the frames (of a video of ``length``) that show the pasted object."""
        labels = np.zeros(length, dtype=np.uint8)
        labels[self.start : self.start + self.span] = 1
        return labels

    def render(self, frames: Sequence[np.ndarray | None]) -> list[np.ndarray | None]:
        """A copy of ``frames`` ((H, W) or (H, W, C) each, any size; None stays None) with the
        object cut from their own ``source`` frame pasted into the segment."""
        out = list(frames)
        reference = frames[self.source]
        if reference is None:
            return out
        patch, alpha = self._cut(np.asarray(reference))
        height, width = np.asarray(reference).shape[:2]
        for i, (x, y) in enumerate(self.path):
            frame = out[self.start + i]
            if frame is not None:
                out[self.start + i] = _paste(np.asarray(frame), patch, alpha, x * width, y * height)
        return out

    def _cut(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        height, width = image.shape[:2]
        x0, y0, x1, y1 = self.box
        c0, c1 = _pixels(x0, x1, width)
        r0, r1 = _pixels(y0, y1, height)
        patch = image[r0:r1, c0:c1].astype(np.float32)
        return patch, feathered_alpha(*patch.shape[:2])


@dataclass(frozen=True)
class PastedScene:
    """The objects pasted into one copy: ``anomaly`` (labelled 1 where it shows) and ``decoys``
    (the same object at a normal pace elsewhere, labelled 0): a score that finds the anomaly
    and not the decoys finds its motion, not the paste."""

    anomaly: PastedObject
    decoys: tuple[PastedObject, ...] = ()

    def labels(self, length: int) -> np.ndarray:
        return self.anomaly.labels(length)

    def render(self, frames: Sequence[np.ndarray | None]) -> list[np.ndarray | None]:
        out = self.anomaly.render(frames)
        for decoy in self.decoys:
            out = decoy.render(out)
        return out


def _pixels(start: float, stop: float, size: int) -> tuple[int, int]:
    """Pixel range of the relative range [start, stop) (at least one pixel)."""
    first = round(start * size)
    return first, max(round(stop * size), first + 1)


def feathered_alpha(height: int, width: int) -> np.ndarray:
    """(H, W) weights of an ellipse filling the patch, 1 inside, falling to 0 at its rim."""
    ys = (np.arange(height) + 0.5) / height * 2 - 1
    xs = (np.arange(width) + 0.5) / width * 2 - 1
    radius = np.sqrt(ys[:, None] ** 2 + xs[None] ** 2)
    return np.clip((1.0 - radius) / 0.35, 0.0, 1.0).astype(np.float32)


def plan_pasted(
    frames: np.ndarray,
    start: int,
    span: int,
    size: float | tuple[float, float] = 0.15,
    speed: float = 0.02,
    leftward: bool = False,
) -> PastedObject:
    """Where to cut the object (the patch of ``size``: one fraction of the frame's height and
    width, or (height, width) fractions, that differs most from the median frame) and its
    straight path through ``span`` frames from ``start``; fewer frames when the path would
    leave the frame."""
    length = len(frames)
    sh, sw = (size, size) if np.isscalar(size) else size
    if not (0 < sh < 1 and 0 < sw < 1 and speed > 0 and span >= 1 and 0 <= start < length):
        raise ValueError(f"cannot paste: size {size}, speed {speed}, span {span}, start {start}")
    source, (cx, cy) = _most_visible(frames, (sh, sw))
    x0, y0 = float(np.clip(cx - sw / 2, 0, 1 - sw)), float(np.clip(cy - sh / 2, 0, 1 - sh))
    steps = min(span, length - start, int((1 - sw) / speed) + 1)
    xs = np.arange(steps) * speed
    xs = (1 - sw) - xs if leftward else xs
    path = np.stack([xs, np.full(steps, y0)], axis=1)
    return PastedObject(source, (x0, y0, x0 + sw, y0 + sh), start, path)


def typical_size(boxes: np.ndarray, fallback: float) -> tuple[float, float]:
    """The median (height, width) of motion ``boxes`` ((..., 4) rows x0, y0, x1, y1 in [0, 1];
    NaN rows pad): the size of the footage's own moving objects, ``fallback`` on both sides
    when nothing moves."""
    rows = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    rows = rows[np.isfinite(rows).all(axis=1)]
    if not len(rows):
        return float(fallback), float(fallback)
    height = float(np.median(rows[:, 3] - rows[:, 1]))
    width = float(np.median(rows[:, 2] - rows[:, 0]))
    return float(np.clip(height, 0.01, 0.5)), float(np.clip(width, 0.01, 0.5))


def _most_visible(frames: np.ndarray, size: tuple[float, float]) -> tuple[int, tuple[float, float]]:
    """The frame and relative centre of the patch of (height, width) fractions ``size`` that
    differs most from the median of evenly sampled frames."""
    picks = np.unique(np.linspace(0, len(frames) - 1, min(SEARCH_FRAMES, len(frames))).astype(int))
    grey = np.stack([_grey(np.asarray(frames[i])) for i in picks])
    median = np.median(grey, axis=0)
    height, width = median.shape
    kernel = (max(1, round(size[1] * width)), max(1, round(size[0] * height)))
    best = (-1.0, 0, (0.5, 0.5))
    for i, image in zip(picks, grey, strict=True):
        energy = cv2.boxFilter(np.abs(image - median), -1, kernel)
        r, c = np.unravel_index(int(np.argmax(energy)), energy.shape)
        if energy[r, c] > best[0]:
            best = (float(energy[r, c]), int(i), ((c + 0.5) / width, (r + 0.5) / height))
    return best[1], best[2]


def _grey(image: np.ndarray) -> np.ndarray:
    image = image.astype(np.float32)
    return image.mean(axis=2) if image.ndim == 3 else image


def _paste(
    frame: np.ndarray, patch: np.ndarray, alpha: np.ndarray, x: float, y: float
) -> np.ndarray:
    """``frame`` with ``patch`` blended in by ``alpha``, top-left at pixel (x, y) (clipped)."""
    out = frame.astype(np.float32).copy()
    height, width = frame.shape[:2]
    c0, r0 = round(x), round(y)
    r1, c1 = min(height, r0 + patch.shape[0]), min(width, c0 + patch.shape[1])
    if r1 <= r0 or c1 <= c0:
        return frame.copy()
    weights = alpha[: r1 - r0, : c1 - c0]
    region = patch[: r1 - r0, : c1 - c0]
    if out.ndim == 3:
        weights = weights[..., None]
        region = region.reshape(region.shape[0], region.shape[1], -1)
    out[r0:r1, c0:c1] = weights * region + (1 - weights) * out[r0:r1, c0:c1]
    return np.clip(np.rint(out), 0, 255).astype(frame.dtype)
