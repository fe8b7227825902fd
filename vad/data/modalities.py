"""Per-frame modalities beyond the frames themselves (e.g. optical flow), derived from the cache.

A modality builder computes, once per cached video, an array with one entry per cached frame and
stores it beside ``frames.npy`` as ``<name>.npy``; clips then slice it exactly like the frames.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vad.data.cache import CachedVideo
from vad.errors import DataError
from vad.io.atomic import atomic_path

ModalityBuilder = Callable[[CachedVideo], np.ndarray]
_BUILDERS: dict[str, ModalityBuilder] = {}


def register_modality(name: str, builder: ModalityBuilder) -> None:
    """Make ``name`` available to models that list it in their ``modalities``."""
    _BUILDERS[name] = builder


def available() -> list[str]:
    return ["frames", *sorted(_BUILDERS)]


def ensure(video: CachedVideo, name: str) -> None:
    """Build the modality's array for a cached video unless it is already stored."""
    if name == "frames":
        return
    if name not in _BUILDERS:
        raise DataError(f"unknown modality {name!r} (available: {available()})")
    path = video.folder / f"{name}.npy"
    if path.is_file():
        try:
            if len(np.load(path, mmap_mode="r")) == len(video):
                return
        except (OSError, EOFError, ValueError):
            pass  # damaged: rebuilt below
    array = _BUILDERS[name](video)
    if len(array) != len(video):
        raise DataError(
            f"modality {name!r} built {len(array)} entries for {len(video)} frames "
            f"of video {video.video}"
        )
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, array)
