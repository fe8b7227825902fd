"""Per-frame modalities beyond the frames themselves (e.g. optical flow), derived from the cache.

A modality builder computes, once per cached video, an array with one entry per cached frame and
stores it beside ``frames.npy`` as ``<name>.npy``; clips then slice it exactly like the frames.
A modality may take settings (e.g. the flow method, from the data config): ``<name>.json`` records
a hash of the validated settings, and an array built with other settings is rebuilt.

Built in: ``flow`` (dense optical flow, ``vad.data.flow``), ``boxes`` (motion regions,
``vad.data.regions``) and ``masks`` (per-pixel ground truth of test videos, ``vad.data.masks``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from vad.data import flow, masks, regions
from vad.data.cache import CachedVideo
from vad.errors import DataError
from vad.io.atomic import atomic_path, write_json
from vad.utils.hashing import stable_hash

#: ``builder(video, settings)`` -> array with one entry per cached frame
ModalityBuilder = Callable[[CachedVideo, dict[str, Any]], np.ndarray]
#: validates settings and fills in defaults; the result identifies the stored array
SettingsCheck = Callable[[Mapping[str, Any] | None], dict[str, Any]]
_BUILDERS: dict[str, tuple[ModalityBuilder, SettingsCheck, int]] = {}


def register_modality(
    name: str, builder: ModalityBuilder, settings: SettingsCheck | None = None, version: int = 1
) -> None:
    """Make ``name`` available to models that list it in their ``modalities``; bump ``version``
    when the builder's output changes, so stored arrays are rebuilt."""
    _BUILDERS[name] = (builder, settings or (lambda given: dict(given or {})), version)


def check_settings(name: str, settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """The validated, complete settings of a modality (a clear error for bad ones)."""
    if name not in _BUILDERS:
        raise DataError(f"unknown modality {name!r} (available: {available()})")
    return _BUILDERS[name][1](settings)


def available() -> list[str]:
    return ["frames", *sorted(_BUILDERS)]


def ensure(video: CachedVideo, name: str, settings: Mapping[str, Any] | None = None) -> None:
    """Build the modality's array for a cached video unless it is stored with these settings."""
    if name == "frames":
        return
    checked = check_settings(name, settings)
    builder, _, version = _BUILDERS[name]
    key = stable_hash({"version": version, "settings": checked})
    path, meta = video.folder / f"{name}.npy", video.folder / f"{name}.json"
    if _stored(path, meta, key, len(video)):
        return
    array = builder(video, checked)
    if len(array) != len(video):
        raise DataError(
            f"modality {name!r} built {len(array)} entries for {len(video)} frames "
            f"of video {video.video}"
        )
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, array)
    write_json({"key": key, "settings": checked, "frames": len(video)}, meta)


def _stored(path: Path, meta: Path, key: str, frames: int) -> bool:
    """The stored array exists, is readable, has one entry per frame and was built with ``key``."""
    try:
        if json.loads(meta.read_text()).get("key") != key:
            return False
        return len(np.load(path, mmap_mode="r")) == frames
    except (OSError, EOFError, ValueError, AttributeError):
        return False  # missing or damaged: rebuilt


register_modality("flow", flow.build_flow, flow.flow_settings, flow.FLOW_VERSION)
register_modality("boxes", regions.build_boxes, regions.region_settings, regions.VERSION)
register_modality("masks", masks.build_masks, masks.mask_settings, masks.VERSION)
