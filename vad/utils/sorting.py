"""Natural order of names that embed numbers (videos, frames)."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"(\d+)")


def natural_key(name: str) -> list[int | str]:
    """Sort key that orders embedded numbers numerically (``frame_2`` before ``frame_10``)."""
    return [int(part) if part.isdigit() else part.lower() for part in _NUMBER.split(name)]
