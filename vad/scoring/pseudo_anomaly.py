"""Pseudo-anomalies in held-out *normal* videos: a label-free way to compare scores and models.

Validation videos hold no anomaly, so one is simulated: in copies of each validation video a
segment is played ``factor`` times faster (every factor-th frame; the frames after it follow on
without a jump). Faster-than-walking motion is the signature of Ped2's cyclists, skaters and
carts and the "skip frame" pseudo-anomaly of Astrid et al. (BMVC 2021). The copies are scored
like test videos (through the one scorer); the positives are the frames reached by a jump (each
shows the scene ``factor`` frames after its predecessor), what a model that sees a frame and
its motion can tell."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vad.data.cache import CachedVideo
from vad.data.clips import memory_video
from vad.data.flow import compute_flow
from vad.data.pasted import PastedScene, plan_pasted, typical_size
from vad.data.regions import build_boxes, native_frames, region_settings, video_boxes
from vad.errors import DataError
from vad.scoring.metrics import evaluate
from vad.scoring.pipeline import anomaly_scores
from vad.scoring.scorer import Scorer

#: the fewest frames a sped-up segment has
MIN_SPAN = 8
#: the pasted object's side (fraction of the frame) with ``size: auto`` when nothing moves
AUTO_FALLBACK = 0.08


def speed_up(length: int, start: int, span: int, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame positions of a video of ``length`` frames whose ``span`` frames from ``start`` are
    played ``factor`` x faster, and their labels (1 = reached by a jump of ``factor`` frames:
    the ``span`` frames after ``start``)."""
    if start < 0 or span < 1 or factor < 1 or start + span * factor > length:
        raise ValueError(f"cannot speed up {span} frames x{factor} from {start} of {length}")
    fast = start + factor * np.arange(span)
    positions = np.concatenate([np.arange(start), fast, np.arange(start + span * factor, length)])
    labels = np.zeros(len(positions), dtype=np.uint8)
    labels[start + 1 : start + span + 1] = 1
    return positions, labels


def pseudo_anomalies(
    frames: np.ndarray, clip_length: int, factor: int, copies: int = 2
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """``(start, frames, labels)`` for ``copies`` sped-up copies of one video; the segment is
    ``segment_span(clip_length)`` frames long and stays at least half a clip from either end."""
    span, margin = segment_span(clip_length), max(1, clip_length // 2)
    last = len(frames) - span * factor - margin
    if not fits(len(frames), clip_length, factor):
        raise DataError(
            f"a validation video of {len(frames)} frames is too short for a x{factor} "
            f"segment of {span} frames with {margin}-frame margins"
        )
    for start in np.unique(np.linspace(margin, last, copies).astype(int)).tolist():
        positions, labels = speed_up(len(frames), start, span, factor)
        yield start, np.asarray(frames[positions]), labels


def segment_span(clip_length: int) -> int:
    """Frames in a sped-up segment: a clip, and at least ``MIN_SPAN`` (models that score one
    frame and its flow need more than one positive)."""
    return max(int(clip_length), MIN_SPAN)


def fits(frames: int, clip_length: int, factor: int) -> bool:
    """Whether a video of ``frames`` frames holds a sped-up segment (``pseudo_anomalies``)."""
    margin = max(1, clip_length // 2)
    return frames - segment_span(clip_length) * factor - margin >= margin


def sped_up_videos(
    videos: Sequence[CachedVideo],
    clip_length: int,
    factor: int,
    copies: int = 2,
    modalities: Sequence[str] = ("frames",),
    settings: Mapping[str, Mapping[str, Any] | None] | None = None,
) -> list[CachedVideo]:
    """In-memory sped-up copies (``<video>@<start>x<factor>``) of ``videos``, labelled, with the
    ``modalities`` a model reads: ``flow`` and motion ``boxes`` are recomputed on the copy's
    frames (with the data's modality ``settings``: name -> settings), as they would be on
    footage that moves that fast; other per-frame arrays are taken from the original frames.
    Videos too short for a segment are left out."""
    made = []
    for video in videos:
        if not fits(len(video), clip_length, factor):
            continue
        for start, frames, labels in pseudo_anomalies(video.frames, clip_length, factor, copies):
            positions, _ = speed_up(len(video), start, segment_span(clip_length), factor)
            name = f"{video.video}@{start}x{factor}"
            made.append(_copy(video, name, frames, positions, labels, modalities, settings))
    return made


def pasted_videos(
    videos: Sequence[CachedVideo],
    clip_length: int,
    options: Mapping[str, Any],
    modalities: Sequence[str] = ("frames",),
    settings: Mapping[str, Mapping[str, Any] | None] | None = None,
) -> list[CachedVideo]:
    """Copies (``<video>@<start>pasted``) of ``videos`` with one of their moving objects pasted
    gliding fast through a segment (``vad.data.pasted``; ``options``: ``copies``, ``span``,
    ``size`` (a fraction of the frame, or ``auto``: the median motion box of the video),
    ``speed`` and ``decoy_speed``: the same object also glides at that normal pace through the
    segment farthest away, labelled normal; null = no decoy), labelled 1 where the fast one
    shows; flow and boxes as in ``sped_up_videos`` (boxes found at native resolution get the
    objects pasted into the source frames too). Videos too short are left out."""
    copies, span = int(options.get("copies", 2)), int(options.get("span", 24))
    size, speed = options.get("size", 0.15), float(options.get("speed", 0.02))
    if size != "auto" and not isinstance(size, int | float):
        raise DataError(f"pasted size {size!r} is invalid: a fraction of the frame, or auto")
    decoy = options.get("decoy_speed")
    margin, made = max(1, int(clip_length)), []
    for video in videos:
        if len(video) - span - margin < margin:
            continue
        side = typical_object_size(video, settings) if size == "auto" else float(size)
        starts = np.unique(np.linspace(margin, len(video) - span - margin, copies).astype(int))
        scenes = [_scene(video.frames, s, starts, span, side, speed, decoy) for s in starts]
        if None in scenes:
            continue  # no room for a decoy segment apart from the fast one
        for start, scene in zip(starts.tolist(), scenes, strict=True):
            frames = np.stack(scene.render(list(video.frames)))
            name, positions = f"{video.video}@{start}pasted", np.arange(len(video))
            labels = scene.labels(len(video))
            made.append(
                _copy(video, name, frames, positions, labels, modalities, settings, scene.render)
            )
    return made


def typical_object_size(
    video: CachedVideo, settings: Mapping[str, Mapping[str, Any] | None] | None
) -> tuple[float, float]:
    """(height, width) of the video's typical moving object: its median motion box (the data's
    box settings; ``AUTO_FALLBACK`` when nothing moves)."""
    checked = region_settings(dict(settings or {}).get("boxes"))
    if checked["resolution"] == "native" and not Path(video.source).exists():
        checked["resolution"] = "cache"  # no readable source: the cached frames
    return typical_size(build_boxes(video, checked), AUTO_FALLBACK)


def _scene(
    frames: np.ndarray,
    start: int,
    starts: np.ndarray,
    span: int,
    size: float | tuple[float, float],
    speed: float,
    decoy: float | None,
) -> PastedScene | None:
    """The fast object from ``start`` (leftward for every other start) and, with a ``decoy``
    speed, the same object at that pace from the farthest of ``starts`` (None: none is
    ``span`` frames away)."""
    leftward = bool(int(np.searchsorted(starts, start)) % 2)
    anomaly = plan_pasted(frames, start, span, size, speed, leftward=leftward)
    if decoy is None:
        return PastedScene(anomaly)
    other = int(max(starts.tolist(), key=lambda s: abs(s - start)))
    if abs(other - start) < span:
        return None
    return PastedScene(
        anomaly, (plan_pasted(frames, other, span, size, float(decoy), not leftward),)
    )


def pseudo_copies(
    model: Any,
    videos: Sequence[CachedVideo],
    factors: Sequence[int] = (2, 3),
    settings: Mapping[str, Mapping[str, Any] | None] | None = None,
    pasted: Mapping[str, Any] | None = None,
    clip_length: int | None = None,
) -> dict[str, list[CachedVideo]]:
    """Labelled copies of the normal ``videos`` for each kind of pseudo-anomaly the ``model``
    (its ``clip_length``, unless given: models given the same one get the same segments, and
    ``modalities``) is asked to find: ``x<factor>`` for sped-up segments, ``pasted`` for a
    pasted moving object (``pasted`` options; None = not used). Kinds no video is long enough
    for are left out."""
    length = int(clip_length or model.clip_length)
    kinds = {
        f"x{factor}": sped_up_videos(videos, length, factor, 2, model.modalities, settings)
        for factor in factors
    }
    if pasted is not None:
        kinds["pasted"] = pasted_videos(videos, length, pasted, model.modalities, settings)
    return {kind: copies for kind, copies in kinds.items() if copies}


def label_free_aucs(
    scorer: Scorer,
    videos: Sequence[CachedVideo],
    column: str,
    factors: Sequence[int] = (2, 3),
    settings: Mapping[str, Mapping[str, Any] | None] | None = None,
    batch_size: int = 16,
    pasted: Mapping[str, Any] | None = None,
    sigma: float = 0.0,
    stride: int = 1,
) -> dict[str, float]:
    """Micro AUC of ``column`` at finding each kind of ``pseudo_copies`` (``copies_auc``),
    scoring clips every ``stride`` frames (as ``data.eval_stride`` scores test videos).
    ``settings``: the data's modality settings (name -> settings, e.g.
    ``datamodule.modality_settings``), for models that read flow or boxes."""
    kinds = pseudo_copies(scorer.model, videos, factors, settings, pasted)
    return kinds_aucs(scorer, kinds, column, batch_size, sigma, stride)


def kinds_aucs(
    scorer: Scorer,
    kinds: Mapping[str, Sequence[CachedVideo]],
    column: str,
    batch_size: int = 16,
    sigma: float = 0.0,
    stride: int = 1,
) -> dict[str, float]:
    """``copies_auc`` of each kind of labelled copies (``pseudo_copies``), scored by ``scorer``."""
    return {
        kind: copies_auc(scorer.score_videos(copies, batch_size, stride), column, sigma)
        for kind, copies in kinds.items()
    }


def label_free_auc(
    scorer: Scorer, videos: Sequence[CachedVideo], column: str, **options: Any
) -> float:
    """The label-free validation score: the mean of ``label_free_aucs`` (same ``options``)
    over its kinds. 0.5 = no better than chance; NaN when no video is long enough for any
    segment."""
    aucs = label_free_aucs(scorer, videos, column, **options)
    return float(np.mean(list(aucs.values()))) if aucs else float("nan")


def copies_auc(scores: pd.DataFrame, column: str, sigma: float = 0.0) -> float:
    """Micro AUC of ``column`` in the scores of labelled copies (oriented, min-max per video and
    smoothed with ``sigma`` frames, as test scores are evaluated)."""
    if column not in scores.columns:
        own = [c for c in scores.columns if c not in ("video", "frame", "label", "filled")]
        raise DataError(
            f"scoring.column={column!r} is not a score column of this model; it writes {own}"
        )
    score = anomaly_scores(scores, column, "minmax", sigma=sigma)
    frame = scores[["video", "frame", "label"]].assign(score=score.to_numpy())
    return float(evaluate(frame)[0]["micro_auc"])


def _copy(
    video: CachedVideo,
    name: str,
    frames: np.ndarray,
    positions: np.ndarray,
    labels: np.ndarray,
    modalities: Sequence[str],
    settings: Mapping[str, Mapping[str, Any] | None] | None,
    render: Callable[[list], list] | None = None,
) -> CachedVideo:
    """A labelled in-memory copy of ``video`` made of ``frames`` (the source's ``positions``,
    changed by ``render`` when given), with the ``modalities`` a model reads."""
    settings, arrays = dict(settings or {}), {"frames": frames}
    for modality in set(modalities) - {"frames"}:
        if modality == "flow":
            arrays[modality] = compute_flow(frames, np.arange(len(frames)), settings.get(modality))
        elif modality == "boxes":
            arrays[modality] = _copy_boxes(video, frames, positions, settings.get(modality), render)
        else:
            arrays[modality] = np.asarray(video.array(modality))[positions]
    return memory_video(name, arrays, labels=labels)


def _copy_boxes(
    video: CachedVideo,
    frames: np.ndarray,
    positions: np.ndarray,
    settings: Mapping[str, Any] | None,
    render: Callable[[list], list] | None = None,
) -> np.ndarray:
    """Motion boxes of a copy: on the copy's cached frames, or, with ``resolution: native``
    (thresholds in native pixels), on the source's frames at the copy's positions, changed by
    ``render`` (a video without a readable source falls back to its cached frames)."""
    checked = region_settings(settings)
    if checked["resolution"] == "native" and Path(video.source).exists():
        native = native_frames(video)
        selected = [native[int(p)] for p in positions]
        return video_boxes(render(selected) if render else selected, checked)
    return video_boxes(list(frames), checked)
