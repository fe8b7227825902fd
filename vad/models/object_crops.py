"""Object-centric clips: each motion box of a clip becomes a clip of its own (``model.objects``).

As Ionescu et al. (CVPR 2019) train and score on object crops, with motion regions instead of a
detector (HF2-VAD's foreground boxes, ``vad.data.regions``): the boxes of one clip position
(``position``; the last frame, the target of the predictors) are cut from *every* frame of the
clip, resized (bilinear) to ``size`` x ``size``, and every image array of the batch (frames,
skip-frame pseudo-anomalies, flow) is replaced by its crops. The video and frame ids follow
each crop, so the one scorer writes one row per object and frame; ``scoring.aggregate=max`` then
scores a frame by its most anomalous object. A clip without a box keeps one *empty* crop (the
whole frame) whose prediction is set to its target, so that its frame gets the lowest score, as
a frame without objects should; training leaves empty crops out.

``paint`` puts the crops' error maps back into frame coordinates (zero outside the box) for the
per-pixel maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from vad.data.batch import ClipBatch
from vad.errors import VADError

if TYPE_CHECKING:
    from vad.models.prediction import Prediction

WHOLE_FRAME = (0.0, 0.0, 1.0, 1.0)


def object_settings(objects: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``model.objects`` validated (None or ``enabled: false``: whole frames)."""
    given = dict(objects or {})
    if not given.get("enabled", False):
        return None
    unknown = sorted(set(given) - {"enabled", "size", "position"})
    size, position = int(given.get("size", 32)), int(given.get("position", -1))
    if unknown or size < 8:
        raise VADError(
            f"model.objects={given} is invalid: keys enabled, size (>= 8 pixels), position"
        )
    return {"size": size, "position": position}


def object_batch(
    batch: ClipBatch, size: int, position: int = -1, training: bool = False
) -> ClipBatch:
    """The batch with one entry per object crop instead of per clip (see the module docstring);
    ``training`` drops the empty crops (the batch may then hold none)."""
    boxes = batch.modality("boxes")[:, position]  # (B, K, 4)
    valid = torch.isfinite(boxes).all(dim=-1)
    empty_clips = ~valid.any(dim=1)
    owner, slot = torch.nonzero(valid, as_tuple=True)
    chosen = boxes[owner, slot]
    empty = torch.zeros(len(owner), dtype=torch.bool, device=boxes.device)
    if not training and bool(empty_clips.any()):
        extra = torch.nonzero(empty_clips, as_tuple=True)[0]
        whole = torch.tensor(WHOLE_FRAME, device=boxes.device).expand(len(extra), 4)
        owner, chosen = torch.cat([owner, extra]), torch.cat([chosen, whole])
        empty = torch.cat([empty, torch.ones(len(extra), dtype=torch.bool, device=boxes.device)])
    order = torch.argsort(owner, stable=True)  # crops of a clip together, clips in order
    owner, chosen, empty = owner[order], chosen[order], empty[order]
    crops = batch.select(owner, per_frame=lambda clips: crop(clips, chosen, size))
    crops.object_empty, crops.object_box = empty, chosen
    return crops


def _theta(boxes: torch.Tensor) -> torch.Tensor:
    """Affine maps from crop coordinates to frame coordinates ([-1, 1] both), (N, 2, 3)."""
    x0, y0, x1, y1 = boxes.float().unbind(-1)
    theta = torch.zeros(len(boxes), 2, 3, device=boxes.device)
    theta[:, 0, 0], theta[:, 0, 2] = x1 - x0, x0 + x1 - 1
    theta[:, 1, 1], theta[:, 1, 2] = y1 - y0, y0 + y1 - 1
    return theta


def crop(clips: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """(N, L, C, H, W) clips cut to their (N, 4) boxes -> (N, L, C, size, size), bilinear."""
    n, length, channels = clips.shape[:3]
    if n == 0:
        return clips.new_zeros((0, length, channels, size, size))
    flat = clips.flatten(1, 2).float()
    grid = F.affine_grid(_theta(boxes), [n, flat.shape[1], size, size], align_corners=False)
    out = F.grid_sample(flat, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out.view(n, length, channels, size, size).to(clips.dtype)


def paint(maps: torch.Tensor, boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(N, P, s, s) crop maps placed into their (N, 4) boxes of an (height, width) frame, zero
    outside -> (N, P, height, width)."""
    n, positions = maps.shape[:2]
    if n == 0:
        return maps.new_zeros((0, positions, height, width))
    theta = _theta(boxes)
    linear, shift = theta[:, :, :2], theta[:, :, 2:]
    scale = torch.diagonal(linear, dim1=1, dim2=2).clamp_min(1e-6)
    inverse = torch.zeros_like(theta)
    inverse[:, 0, 0], inverse[:, 1, 1] = 1 / scale[:, 0], 1 / scale[:, 1]
    inverse[:, :, 2] = -shift[:, :, 0] / scale
    grid = F.affine_grid(inverse, [n, positions, height, width], align_corners=False)
    inside = (grid.abs() <= 1).all(dim=-1)[:, None]  # frame pixels whose centre is in the box
    painted = F.grid_sample(
        maps.float(), grid, mode="bilinear", padding_mode="border", align_corners=False
    )
    return painted * inside


def objects_as_frames(batch: ClipBatch, out: Prediction, height: int, width: int) -> None:
    """After the model ran on crops: empty crops predicted perfectly (the lowest score) and the
    crops' error maps painted back into the (height, width) frame as ``out.maps``."""
    empty = batch.object_empty
    if bool(empty.any()):
        shape = (-1, *([1] * (out.pred.ndim - 1)))
        out.pred = torch.where(empty.view(shape), out.target.to(out.pred.dtype), out.pred)
    out.maps = paint(out.error_maps(), batch.object_box, height, width)
