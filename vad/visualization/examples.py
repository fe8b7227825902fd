"""The k most anomalous frames: the frame, the model's prediction/reconstruction of it and the
squared-error heatmap, side by side; the ground-truth outline (cyan) over the frame and the
heatmap when the video has pixel masks.

The model is re-run (through the one scorer) on the clips that contain each chosen frame; the
first output frame whose original id is that frame provides the prediction. This works for every
model, whatever number of frames it outputs per clip.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch

from vad.data import modalities
from vad.data.batch import collate_clips
from vad.data.cache import CachedVideo
from vad.data.clips import ClipDataset
from vad.scoring.scorer import Scorer
from vad.visualization.figures import new_figure, safe_name, save_png

log = logging.getLogger(__name__)


@dataclass
class Example:
    """One rendered frame: where it is, its score, and the images."""

    video: str
    frame: int
    score: float
    label: int | None
    image: np.ndarray  # the cached frame, (H, W, C) uint8
    prediction: np.ndarray  # (H, W, C) in [0, 1]
    error: np.ndarray  # (H, W) the model's map: squared error in [0, 1] scale, or its own
    path: Path | None = None
    mask: np.ndarray | None = None  # (H, W) bool ground truth, when the video has pixel masks


def top_frames(frame: pd.DataFrame, k: int, min_gap: int = 10) -> pd.DataFrame:
    """The ``k`` highest-scoring frames that a clip scored (``filled`` frames are skipped), at least
    ``min_gap`` frame ids apart within a video so that one event does not fill the list."""
    candidates = frame[frame["filled"] == 0] if "filled" in frame.columns else frame
    order = candidates.sort_values("score", ascending=False, kind="stable")
    chosen: list[int] = []
    taken: dict[str, list[int]] = {}
    for index, row in zip(order.index, order.itertuples(index=False), strict=True):
        near = taken.setdefault(str(row.video), [])
        if all(abs(int(row.frame) - f) >= min_gap for f in near):
            chosen.append(index)
            near.append(int(row.frame))
            if len(chosen) == k:
                break
    return frame.loc[chosen].reset_index(drop=True)


def predict_frame(scorer: Scorer, video: CachedVideo, frame_id: int) -> tuple | None:
    """(prediction, target) images (C, h, w) in [-1, 1] and the anomaly map (H, W) of
    ``frame_id`` (the squared error, or the model's own map: an object model's crop errors in
    the frame), or None when no clip of ``video`` scores that frame. An object model shows the
    crop of the frame's most anomalous object (largest error)."""
    model = scorer.model
    length = int(model.clip_length)
    dataset = ClipDataset([video], length, 1, model.modalities)
    position = int(np.searchsorted(video.frame_ids, frame_id))
    starts = dataset.index[:, 1]
    candidates = np.flatnonzero((starts <= position) & (starts > position - length))
    if not len(candidates):
        return None
    out = scorer.run(collate_clips([dataset[int(i)] for i in candidates]))
    hits = torch.nonzero(frame_id == out.frame_ids.T)  # (position, clip): earliest position first
    if not len(hits):
        return None
    maps = out.error_maps()
    p = int(hits[0, 0])
    rows = hits[hits[:, 0] == p, 1]  # every clip (or object crop) with the frame at position p
    b = int(rows[maps[rows, p].flatten(1).amax(dim=1).argmax()])
    pred, target = out.per_position()
    emap = maps[rows, p].amax(dim=0)  # objects: each crop's errors painted in its box
    return pred[b, p].float().cpu(), target[b, p].float().cpu(), emap.float().cpu()


def collect_examples(
    scorer: Scorer, videos: Sequence[CachedVideo], picks: pd.DataFrame
) -> list[Example]:
    """Re-score every picked (video, frame); frames no clip scores are skipped."""
    by_name = {v.video: v for v in videos}
    examples = []
    for row in picks.itertuples(index=False):
        video, frame_id = by_name.get(str(row.video)), int(row.frame)
        found = predict_frame(scorer, video, frame_id) if video is not None else None
        if found is None:
            log.warning("no clip scores video %s frame %d; not shown", row.video, frame_id)
            continue
        pred, _, emap = found
        position = int(np.searchsorted(video.frame_ids, frame_id))
        label = int(row.label) if "label" in picks.columns else None
        examples.append(
            Example(
                str(row.video),
                frame_id,
                float(row.score),
                label,
                np.asarray(video.frames[position]),
                _to_image(pred),
                emap.numpy(),
                mask=_mask(video, position),
            )
        )
    return examples


def _mask(video: CachedVideo, position: int) -> np.ndarray | None:
    """The cached ground-truth mask of a frame, or None when the video has no pixel masks."""
    if not video.masks:
        return None
    modalities.ensure(video, "masks", {"source": video.masks})
    return np.asarray(video.array("masks")[position]) > 0


def _to_image(x: torch.Tensor) -> np.ndarray:
    """(C, H, W) in [-1, 1] -> (H, W, C) in [0, 1]; other channel counts shown as their mean."""
    image = ((x.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()
    return image if image.shape[-1] in (1, 3) else image.mean(axis=-1, keepdims=True)


def _show(ax, image: np.ndarray, title: str, **kwargs):
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
        kwargs.setdefault("cmap", "gray")
    shown = ax.imshow(image, interpolation="nearest", **kwargs)
    ax.set_title(title, fontsize=8)
    ax.set_axis_off()
    return shown


def _draw_row(figure, axes, example: Example, vmax: float | None = None) -> None:
    """One example: frame, prediction, and its error map on 0 .. ``vmax`` (its own largest
    error when None)."""
    truth = "" if example.label is None else (", anomalous" if example.label else ", normal")
    gray = {"vmin": 0, "vmax": 255} if example.image.dtype == np.uint8 else {}
    _show(axes[0], example.image, f"video {example.video} frame {example.frame}{truth}", **gray)
    _show(axes[1], example.prediction, "predicted / reconstructed", vmin=0, vmax=1)
    title = f"error map (score {example.score:.3g})"
    vmax = vmax if vmax is not None else float(example.error.max()) or 1.0
    heat = _show(axes[2], example.error, title, cmap="inferno", vmin=0, vmax=vmax)
    if example.mask is not None and example.mask.any():
        _contour(axes[0], example.mask, example.image.shape[:2])
        _contour(axes[2], example.mask, example.error.shape)
    colorbar = figure.colorbar(heat, ax=axes[2], fraction=0.046, pad=0.02)
    colorbar.ax.tick_params(labelsize=6)


def _contour(ax, mask: np.ndarray, shape: tuple[int, ...]) -> None:
    """The ground-truth outline over an image of ``shape`` (the mask is resized to it)."""
    if mask.shape != tuple(shape[:2]):
        size = (shape[1], shape[0])
        mask = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    ax.contour(mask.astype(float), levels=[0.5], colors="cyan", linewidths=0.8)


def write_examples(
    examples: Sequence[Example], out_dir: str | Path
) -> tuple[list[Path], Path | None]:
    """One PNG per example and a grid of all of them (``top_frames.png`` next to ``out_dir``).

    A single example's heatmap spans 0 .. its own largest error (colour bar beside it), so that
    its structure is visible; in the grid every heatmap shares one scale, 0 .. the largest error
    of all shown, so that rows compare.
    """
    if not examples:
        return [], None
    out_dir = Path(out_dir)
    paths = []
    for rank, example in enumerate(examples, start=1):
        figure = new_figure(7.5, 2.8)
        _draw_row(figure, figure.subplots(1, 3), example)
        name = f"{rank:02d}_video{safe_name(example.video)}_frame{example.frame}.png"
        example.path = save_png(figure, out_dir / name)
        paths.append(example.path)
    figure = new_figure(7.5, 2.6 * len(examples))
    shared = max(float(e.error.max()) for e in examples) or 1.0
    for axes, example in zip(
        figure.subplots(len(examples), 3, squeeze=False), examples, strict=True
    ):
        _draw_row(figure, axes, example, shared)
    grid = save_png(figure, out_dir.parent / "top_frames.png")
    return paths, grid
