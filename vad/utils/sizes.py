"""Checked image sizes from configs."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

from vad.errors import DataError


def image_hw(image_size: Sequence[int] | int, key: str = "data.image_size") -> tuple[int, int]:
    """(height, width) of an image size given as ``[height, width]`` or one integer (a square);
    a DataError naming ``key`` and the value unless both are positive integers."""
    square = isinstance(image_size, Integral)
    values = [image_size, image_size] if square else image_size
    try:
        sizes = [int(v) for v in values]
        exact = all(float(v) == int(v) for v in values)
    except (TypeError, ValueError):
        sizes, exact = [], False
    if not exact or len(sizes) != 2 or min(sizes) < 1:
        shown = image_size if square or isinstance(image_size, str) else list(image_size)
        raise DataError(
            f"{key}={shown!r} is invalid: "
            "expected [height, width] of positive integers (or one integer for a square)"
        )
    return sizes[0], sizes[1]
