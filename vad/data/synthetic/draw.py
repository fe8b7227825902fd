"""Sub-pixel, anti-aliased OpenCV drawing primitives (fixed-point coordinates)."""

from __future__ import annotations

import cv2
import numpy as np

_SHIFT = 4  # fixed-point bits for sub-pixel cv2 drawing


def _pt(point: tuple[float, float]) -> tuple[int, int]:
    return round(point[0] * (1 << _SHIFT)), round(point[1] * (1 << _SHIFT))


def line(image: np.ndarray, a: tuple, b: tuple, tone: int, thickness: int) -> None:
    cv2.line(image, _pt(a), _pt(b), tone, thickness, cv2.LINE_AA, _SHIFT)


def circle(image: np.ndarray, centre: tuple, radius: float, tone: int, width: int = -1) -> None:
    cv2.circle(image, _pt(centre), round(radius * (1 << _SHIFT)), tone, width, cv2.LINE_AA, _SHIFT)


def ellipse(image: np.ndarray, centre: tuple, axes: tuple, tone: int, angle: float = 0) -> None:
    cv2.ellipse(image, _pt(centre), _pt(axes), angle, 0, 360, tone, -1, cv2.LINE_AA, _SHIFT)


def rect(image: np.ndarray, a: tuple, b: tuple, tone: int) -> None:
    corners = np.array([_pt(a), _pt((b[0], a[1])), _pt(b), _pt((a[0], b[1]))], dtype=np.int32)
    cv2.fillConvexPoly(image, corners, tone, cv2.LINE_AA, _SHIFT)
