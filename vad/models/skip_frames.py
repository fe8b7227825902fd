"""Skip-frame pseudo-anomalies in training (Astrid et al., "Learning Not to Reconstruct
Anomalies", BMVC 2021): the settings, and the batch a model trains on.

The data layer cuts, beside each training clip, the clip of frames ``skip`` apart from the same
start (``vad.data.clips.ClipDataset``); with ``probability`` a clip's input is replaced by it while
its target stays the normal clip, so the model learns not to reproduce fast, unusual motion.
"""

from __future__ import annotations

from typing import Any

import torch

from vad.data.batch import ClipBatch
from vad.errors import TrainingError


def pseudo_anomaly_settings(cfg: dict | None) -> dict[str, Any]:
    """``{"probability": p, "skips": [...]}`` validated; probability 0 (off) when not given."""
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - {"probability", "skips"})
    probability, skips = float(cfg.get("probability", 0.0)), [int(j) for j in cfg.get("skips", [])]
    if unknown or not 0 <= probability <= 1 or (probability > 0 and not skips):
        raise TrainingError(
            f"model.pseudo_anomaly needs probability in [0, 1] and a list of skips (>= 2) when "
            f"on; got {cfg}"
        )
    if any(j < 2 for j in skips):
        raise TrainingError(f"model.pseudo_anomaly.skips must be >= 2, got {skips}")
    return {"probability": probability, "skips": skips}


def with_pseudo_anomalies(batch: ClipBatch) -> ClipBatch:
    """A training batch whose clips with ``skip`` > 0 have the skipped frames as input
    (``frames``) and the normal clip as ``targets``; unchanged without pseudo-anomalies."""
    skip = batch.skip
    if skip is None or batch.skip_frames is None or not bool((skip > 0).any()):
        return batch
    chosen = (skip > 0).view(-1, *([1] * (batch.frames.ndim - 1)))
    frames = torch.where(chosen, batch.skip_frames, batch.frames)
    return batch.replace(frames=frames, targets=batch.frames)
