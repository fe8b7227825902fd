"""Every localisation metric of anomaly maps in one call: the pixel metrics
(``vad.scoring.pixel_metrics``) and the region / track criteria (``vad.scoring.region_metrics``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from vad.scoring.pixel_metrics import (
    PixelAUROC,
    check_video,
    per_frame,
    ucsd_frame_scores,
    ucsd_pixel_criterion,
)
from vad.scoring.region_metrics import RegionMetrics, sweep_thresholds


def pixel_metrics(
    videos: Iterable[tuple[str, np.ndarray, np.ndarray]],
    *,
    fraction: float = 0.4,
    n_thresholds: int = 40,
    iou: float = 0.1,
    track_fraction: float = 0.1,
    max_fpr: float = 1.0,
) -> dict[str, float]:
    """All localisation metrics of ``(video, maps, masks)`` triples: ``pixel_auroc``,
    ``ucsd_pixel_rd``, ``ucsd_pixel_auc``, ``rbdc``, ``tbdc`` and ``pixel_frames``.

    Two passes: the first streams the pixel AUROC and the UCSD frame scores and gathers the
    RBDC / TBDC thresholds, the second computes the regions; an iterable that is not a
    ``Sequence`` is listed first (held in memory). Shapes that differ raise ValueError.
    """
    videos = videos if isinstance(videos, Sequence) else list(videos)
    auroc = PixelAUROC()
    labels, scores, maxima = [], [], []
    for video, maps, masks in videos:
        maps, masks = check_video(video, maps, masks)
        auroc.update(maps, masks)
        frame_labels, frame_scores = ucsd_frame_scores(maps, masks, fraction)
        labels.append(frame_labels)
        scores.append(frame_scores)
        maxima.append(per_frame(maps).max(axis=1, initial=-np.inf))
    frames = sum(len(frame_labels) for frame_labels in labels)
    if frames == 0:
        raise ValueError("no frame to evaluate")
    thresholds = sweep_thresholds(np.concatenate(maxima), auroc.counts, n_thresholds)
    regions = RegionMetrics(thresholds, iou=iou, track_fraction=track_fraction)
    for _, maps, masks in videos:
        regions.update(maps, masks)
    return {
        "pixel_auroc": auroc.compute(),
        **ucsd_pixel_criterion(np.concatenate(labels), np.concatenate(scores)),
        **regions.compute(max_fpr),
        "pixel_frames": frames,
    }
