"""Attributes of the objects of one frame: velocity, geometry and appearance (numpy / OpenCV).

Objects are the motion boxes of a frame (the ``boxes`` modality, ``vad.data.regions``): rows of
``x0, y0, x1, y1`` in [0, 1], NaN rows padding. Each attribute is a fixed-length vector per object:

* ``velocity``: the magnitude-weighted histogram of optical-flow directions inside the box (AI-VAD,
  Reiss & Hoshen 2023): bin ``b`` holds the mean, over the box's pixels, of the L1 flow magnitude
  of the pixels whose direction falls in it, so the bins sum to the mean magnitude (speed is kept).
  Bins are centred on their direction: bin 0 = right, then clockwise on screen (y points down:
  with 8 bins, 2 = down, 4 = left, 6 = up).
* ``geometry``: centre x and y (``cx``, ``cy``), ``size`` (square root of the box's area
  fraction) and ``aspect`` (width / (width + height) in pixels), all in [0, 1], or the subset
  named by ``geometry_features``; what is normal depends on where it is and how big it is.
* ``appearance``: a HOG-style gradient-orientation histogram (Dalal & Triggs 2005) of the grey
  crop resized to a square (OpenCV 5 has no ``HOGDescriptor`` in its main modules).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np
import torch

from vad.models.density.ground import expected_heights

ATTRIBUTES = ("velocity", "geometry", "appearance")
GEOMETRY = ("cx", "cy", "size", "aspect")
#: how the velocity attribute is scaled: ``none`` (pixels per frame, AI-VAD), ``height`` (box
#: heights per frame: a receding walkway's far pedestrians move fewer pixels than near ones, but
#: about as many of their own heights) or ``ground`` (expected object heights at the box's foot
#: row per frame: the ground line of ``fit_ground``, not the box's own height)
VELOCITY_SCALES = ("none", "height", "ground")
#: how the geometry ``size`` is scaled: ``none`` (fraction of the frame) or ``ground`` (the box's
#: side in expected object heights at its foot row)
SIZE_SCALES = ("none", "ground")
DEFAULTS: dict[str, Any] = {
    "velocity_bins": 8,
    "velocity_scale": "none",
    "size_scale": "none",
    "appearance_size": 32,
    "geometry_features": GEOMETRY,
}
HOG_CELL, HOG_BINS = 8, 9


def pixel_boxes(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """int (K, 4) pixel boxes of the valid (finite) rows of normalised ``boxes``, each at least
    one pixel wide and high, inside the image."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    boxes = boxes[np.isfinite(boxes).all(axis=1)]
    scale = np.array([width, height, width, height], dtype=np.float64)
    pixels = boxes * scale
    x0 = np.clip(np.floor(pixels[:, 0]), 0, width - 1)
    y0 = np.clip(np.floor(pixels[:, 1]), 0, height - 1)
    x1 = np.clip(np.ceil(pixels[:, 2]), x0 + 1, width)
    y1 = np.clip(np.ceil(pixels[:, 3]), y0 + 1, height)
    return np.stack([x0, y0, x1, y1], axis=1).astype(np.int64)


def velocity(flow: np.ndarray, box: np.ndarray, bins: int) -> np.ndarray:
    """(bins,) magnitude-weighted direction histogram of ``flow`` (H, W, 2) inside a pixel box."""
    return velocities(flow, np.asarray(box).reshape(1, 4), bins)[0]


def velocities(flow: np.ndarray, boxes: np.ndarray, bins: int) -> np.ndarray:
    """(K, bins) magnitude-weighted direction histograms of ``flow`` (H, W, 2) inside K pixel
    boxes, from one integral image per direction bin (a frame's boxes cost one pass over it)."""
    flow = np.asarray(flow, dtype=np.float32)
    dx, dy = np.ascontiguousarray(flow[..., 0]), np.ascontiguousarray(flow[..., 1])
    magnitude = np.abs(dx) + np.abs(dy)  # L1, as AI-VAD
    if bins == 1:
        planes = [magnitude]
    else:
        _, angle = cv2.cartToPolar(dx, dy)  # radians in [0, 2 pi), y down
        index = np.floor(angle * bins / (2 * np.pi) + 0.5).astype(np.int64) % bins
        planes = [np.where(index == b, magnitude, 0) for b in range(bins)]
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    x0, y0, x1, y1 = boxes.T
    area = np.maximum(1, (x1 - x0) * (y1 - y0)).astype(np.float64)
    out = np.empty((len(boxes), bins), dtype=np.float32)
    for b, plane in enumerate(planes):
        total = cv2.integral(plane.astype(np.float64))  # (H + 1, W + 1)
        sums = total[y1, x1] - total[y0, x1] - total[y1, x0] + total[y0, x0]
        out[:, b] = sums / area
    return out


def geometry(box: np.ndarray, height: int, width: int) -> np.ndarray:
    """(4,) centre x, centre y, size and aspect of a pixel box in an image of that size."""
    x0, y0, x1, y1 = (float(v) for v in box)
    w, h = x1 - x0, y1 - y0
    centre = ((x0 + x1) / 2 / width, (y0 + y1) / 2 / height)
    size = np.sqrt(w * h / (width * height))
    return np.array([*centre, size, w / (w + h)], dtype=np.float32)


def appearance(grey: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """HOG-style descriptor of the grey uint8 crop of a pixel box resized to ``size`` x ``size``:
    per 8 x 8-pixel cell, a 9-bin histogram of unsigned gradient orientations weighted by the
    gradient magnitude (Dalal & Triggs 2005), the whole L2-Hys normalised (clipped at 0.2)."""
    x0, y0, x1, y1 = (int(v) for v in box)
    crop = np.ascontiguousarray(grey[y0:y1, x0:x1])
    crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    gx, gy = cv2.Sobel(crop, cv2.CV_32F, 1, 0, ksize=1), cv2.Sobel(crop, cv2.CV_32F, 0, 1, ksize=1)
    magnitude, angle = cv2.cartToPolar(gx, gy)
    bins = np.floor(np.mod(angle, np.pi) * HOG_BINS / np.pi).astype(np.int64) % HOG_BINS
    hist = np.bincount(
        _cell_offsets(size) + bins.ravel(),
        weights=magnitude.ravel(),
        minlength=(size // HOG_CELL) ** 2 * HOG_BINS,
    )
    hist = np.minimum(hist / (np.linalg.norm(hist) + 1e-6), 0.2)
    return (hist / (np.linalg.norm(hist) + 1e-6)).astype(np.float32)


@functools.cache
def _cell_offsets(size: int) -> np.ndarray:
    """The first histogram index of each pixel's cell, for a ``size`` x ``size`` crop."""
    rows, cols = np.divmod(np.arange(size * size), size)
    return (rows // HOG_CELL * (size // HOG_CELL) + cols // HOG_CELL) * HOG_BINS


def grey_image(frame: np.ndarray) -> np.ndarray:
    """A uint8 (H, W) image of an (H, W), (H, W, 1) or RGB (H, W, 3) frame."""
    frame = np.asarray(frame)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(frame.reshape(frame.shape[:2]))


class ObjectFeatures:
    """Extracts the enabled ``attributes`` of every object of a frame.

    Args:
        attributes: name -> enabled (``velocity``, ``geometry``, ``appearance``).
        velocity_bins: direction bins of the velocity histogram.
        velocity_scale: ``none``, ``height`` or ``ground`` (see ``VELOCITY_SCALES``).
        size_scale: ``none`` or ``ground`` (see ``SIZE_SCALES``).
        appearance_size: side of the square the crops are resized to (a multiple of 8).

    ``ground`` (the line of ``fit_ground``, set from the training boxes before any extraction)
    is needed where a scale is ``ground``.
    """

    def __init__(self, attributes: Mapping[str, bool], **settings: Any) -> None:
        unknown = sorted(set(attributes) - set(ATTRIBUTES)) + sorted(set(settings) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"unknown density setting(s) {unknown}")
        self.names = tuple(a for a in ATTRIBUTES if attributes.get(a, False))
        if not self.names:
            raise ValueError(f"enable at least one attribute of {list(ATTRIBUTES)}")
        self.settings = {**DEFAULTS, **settings}
        self.bins = int(self.settings["velocity_bins"])
        self.size = int(self.settings["appearance_size"])
        wanted = list(self.settings["geometry_features"])
        if not wanted or sorted(set(wanted) - set(GEOMETRY)) or len(set(wanted)) < len(wanted):
            raise ValueError(
                f"geometry_features must be distinct names of {list(GEOMETRY)}, got {wanted}"
            )
        self.geometry_index = [GEOMETRY.index(name) for name in wanted]
        self.velocity_scale = str(self.settings["velocity_scale"])
        self.size_scale = str(self.settings["size_scale"])
        for key, value, allowed in (
            ("velocity_scale", self.velocity_scale, VELOCITY_SCALES),
            ("size_scale", self.size_scale, SIZE_SCALES),
        ):
            if value not in allowed:
                raise ValueError(f"{key} must be one of {list(allowed)}, got {value!r}")
        self.ground: np.ndarray | None = None
        if self.bins < 1 or self.size < HOG_CELL or self.size % HOG_CELL:
            raise ValueError(
                f"velocity_bins must be >= 1 and appearance_size a multiple of {HOG_CELL}, got "
                f"{self.bins}, {self.size}"
            )

    @property
    def needs_ground(self) -> bool:
        """Whether a scale is ``ground`` (the line must be fitted before extraction)."""
        return "ground" in (self.velocity_scale, self.size_scale)

    def dims(self) -> dict[str, int]:
        """Feature length of every enabled attribute."""
        sizes = {
            "velocity": self.bins,
            "geometry": len(self.geometry_index),
            "appearance": (self.size // HOG_CELL) ** 2 * HOG_BINS,
        }
        return {name: sizes[name] for name in self.names}

    def __call__(
        self, frame: np.ndarray, flow: np.ndarray, boxes: np.ndarray
    ) -> dict[str, np.ndarray]:
        """float32 (K, D) per attribute for the K valid boxes of a frame (uint8 frame (H, W[, C]),
        flow (H, W, 2) in pixels, normalised boxes (N, 4) with NaN padding rows)."""
        grey = grey_image(frame)
        height, width = grey.shape
        pixels = pixel_boxes(boxes, height, width)
        extract = {
            "geometry": lambda b: geometry(b, height, width)[self.geometry_index],
            "appearance": lambda b: appearance(grey, b, self.size),
        }
        dims = self.dims()
        out = {}
        for name in self.names:
            if not len(pixels):
                out[name] = np.zeros((0, dims[name]), dtype=np.float32)
            elif name == "velocity":
                out[name] = velocities(flow, pixels, self.bins) / self._velocity_unit(pixels)
            else:
                out[name] = np.stack([extract[name](b) for b in pixels]).reshape(-1, dims[name])
        if len(pixels) and "geometry" in out and self.size_scale == "ground":
            out["geometry"] = self._size_in_heights(out["geometry"], pixels)
        return out

    def _expected(self, pixels: np.ndarray) -> np.ndarray:
        if self.ground is None:
            raise ValueError("a ground scale needs the ground line: set .ground (fit_ground)")
        return expected_heights(pixels, self.ground)

    def _velocity_unit(self, pixels: np.ndarray) -> np.ndarray | float:
        """Pixels per unit of speed of each box: 1, its height, or its expected height."""
        if self.velocity_scale == "height":
            return (pixels[:, 3:4] - pixels[:, 1:2]).astype(np.float32)
        return self._expected(pixels) if self.velocity_scale == "ground" else 1.0

    def _size_in_heights(self, values: np.ndarray, pixels: np.ndarray) -> np.ndarray:
        """The geometry rows with ``size`` replaced by sqrt(w h) in expected heights."""
        wanted = [GEOMETRY[i] for i in self.geometry_index]
        if "size" not in wanted:
            return values
        sides = np.sqrt((pixels[:, 2] - pixels[:, 0]) * (pixels[:, 3] - pixels[:, 1]))
        values = values.copy()
        values[:, wanted.index("size")] = sides / self._expected(pixels)[:, 0]
        return values


def score_groups(names: Sequence[str], joint: Sequence[str] | None) -> dict[str, tuple[str, ...]]:
    """The scored groups of the enabled attribute ``names``: the ``joint`` attributes (two or
    more) form one group, named by joining them with ``_`` (one density over their concatenated
    features: what is rare is the combination, e.g. a large box moving fast), every other
    attribute its own."""
    joint = list(joint or [])
    if joint and (len(joint) < 2 or len(set(joint)) < len(joint) or set(joint) - set(names)):
        raise ValueError(
            f"joint must name two or more distinct enabled attributes of {list(names)}, got {joint}"
        )
    together = tuple(name for name in names if name in joint)
    groups = {"_".join(together): together} if together else {}
    return {**groups, **{name: (name,) for name in names if name not in joint}}


def grouped(features: Mapping[str, Any], groups: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """Per group, its attributes' (K, D) features concatenated along D (numpy or torch)."""
    out = {}
    for name, members in groups.items():
        parts = [features[m] for m in members]
        if len(parts) == 1:
            out[name] = parts[0]
        elif isinstance(parts[0], np.ndarray):
            out[name] = np.concatenate(parts, axis=1)
        else:
            out[name] = torch.cat(parts, dim=1)
    return out


def video_features(
    extractor: ObjectFeatures, frames: np.ndarray, flow: np.ndarray, boxes: np.ndarray
) -> dict[str, np.ndarray]:
    """The attributes of every object of a video's frames (N, H, W, C), flow (N, H, W, 2) and
    boxes (N, max_boxes, 4), stacked per attribute."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in extractor.names}
    for i in np.flatnonzero(np.isfinite(np.asarray(boxes)).all(axis=2).any(axis=1)):
        for name, values in extractor(frames[i], flow[i], boxes[i]).items():
            parts[name].append(values)
    dims = extractor.dims()
    return {
        name: np.concatenate(values) if values else np.zeros((0, dims[name]), np.float32)
        for name, values in parts.items()
    }
