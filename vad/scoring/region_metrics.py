"""Region- and track-based detection criteria (RBDC, TBDC) of pixel anomaly maps (Ramachandra &
Jones, "Street Scene: A new dataset and evaluation protocol for video anomaly analysis", WACV 2020).

At a threshold t the detected regions of a frame are the 8-connected components of map >= t, the
ground-truth regions those of its mask, each taken as its bounding box. A ground-truth region is
detected when a detected region of its frame has box IoU >= 0.1 with it; a detected region whose
IoU with every ground-truth region of its frame is < 0.1 is a false positive.

    RBDC(t)  detected ground-truth regions / ground-truth regions
    TBDC(t)  ground-truth tracks with >= 10% of their regions detected / tracks
    FPR(t)   false-positive regions / frames (all frames, normal and anomalous)

Tracks link the ground-truth regions of consecutive frames of a video: pairs of a region and a
region of the previous frame with box IoU > 0 are taken greedily by decreasing IoU, each region on
either side at most once; a region left unpaired starts a new track.

The reported RBDC / TBDC are the areas under the curves over FPR in [0, max_fpr], divided by
max_fpr (in [0, 1]): points sorted by FPR, closed by (0, 0) (t = +inf), each value raised to the
best value at a lower FPR (regions change with t, so FPR is not monotone in t: at high t a true
region breaks into fragments too small to match, which count as false positives), trapezoids,
interpolated at max_fpr or extended flat when no threshold reaches it. Thresholds
(``sweep_thresholds``): one half quantiles of the per-frame maxima (evenly spaced levels from the
lowest to the highest maximum: they set the fraction of frames with any region), the other half
high quantiles of all pixels (levels 1 - 0.5 ... 1 - 1e-4, log-spaced: the thresholds that keep the
bulk of an anomalous region, and many regions per frame at the high-FPR end), and +inf.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import cv2
import numpy as np

from vad.scoring.pixel_metrics import PixelAUROC, check_video, histogram_quantiles

_CHUNK = 1 << 22  # pixels labelled per connectedComponents call


def connected_regions(
    stack: np.ndarray, threshold: float, frames: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """8-connected components of ``stack[f] >= threshold`` for the frames ``frames`` (all by
    default) of a (T, H, W) stack: (frame index (n,), boxes (n, 4) as x0, y0, x1, y1 with x1, y1
    exclusive), ordered by frame. Frames are labelled together, stacked with a blank row apart."""
    count, height, width = stack.shape
    frames = np.arange(count) if frames is None else np.asarray(frames, dtype=np.int64)
    rows = height + 1
    step = max(1, _CHUNK // (rows * max(width, 1)))
    buffer = np.zeros((min(step, len(frames)), rows, width), dtype=np.uint8)
    found_frames, found_boxes = [], []
    for start in range(0, len(frames), step):
        chunk = frames[start : start + step]
        n = len(chunk)
        block = stack[chunk[0] : chunk[-1] + 1] if chunk[-1] - chunk[0] == n - 1 else stack[chunk]
        np.greater_equal(block, threshold, out=buffer[:n, :height].view(np.bool_))
        image = buffer[:n].reshape(n * rows, width)
        stats = cv2.connectedComponentsWithStats(image, connectivity=8, ltype=cv2.CV_32S)[2]
        x, y, w, h = stats[1:, :4].astype(np.int64).T
        local = y // rows
        y = y - local * rows
        found_frames.append(chunk[local])
        found_boxes.append(np.stack([x, y, x + w, y + h], axis=1))
    if not found_frames:
        return np.zeros(0, np.int64), np.zeros((0, 4), np.int64)
    frame_ids, boxes = np.concatenate(found_frames), np.concatenate(found_boxes)
    order = np.argsort(frame_ids, kind="stable")
    return frame_ids[order], boxes[order]


def _frame_maxima(maps: np.ndarray) -> np.ndarray:
    return maps.max(axis=(1, 2), initial=-np.inf)


def pair_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes a[i] and b[i] (x0, y0, x1, y1, ends exclusive; areas in pixels)."""
    width = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    height = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(width, 0, None) * np.clip(height, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a + area_b - inter)


def link_tracks(frames: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Track id (0, 1, ...) of each region of one video (``frames`` sorted), see module doc."""
    tracks = np.full(len(frames), -1, dtype=np.int64)
    if len(frames) == 0:
        return tracks
    starts = np.flatnonzero(np.r_[True, np.diff(frames) != 0, True])
    previous, previous_frame, next_id = np.zeros(0, np.int64), -2, 0
    for begin, end in itertools.pairwise(starts):
        current = np.arange(begin, end)
        if frames[begin] == previous_frame + 1:
            ci, pi = np.repeat(current, len(previous)), np.tile(previous, len(current))
            overlap = pair_iou(boxes[ci], boxes[pi])
            free_c, free_p = set(current.tolist()), set(previous.tolist())
            for k in np.argsort(-overlap, kind="stable"):
                c, p = int(ci[k]), int(pi[k])
                if overlap[k] > 0 and c in free_c and p in free_p:
                    tracks[c] = tracks[p]
                    free_c.discard(c)
                    free_p.discard(p)
        for c in current[tracks[current] < 0]:
            tracks[c], next_id = next_id, next_id + 1
        previous, previous_frame = current, int(frames[begin])
    return tracks


def match_regions(
    gt_frames: np.ndarray,
    gt_boxes: np.ndarray,
    frames: np.ndarray,
    boxes: np.ndarray,
    iou: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """(detected per ground-truth region, matched per detected region): box IoU >= ``iou`` with
    some region of the other kind in the same frame; ``gt_frames`` sorted."""
    low = np.searchsorted(gt_frames, frames, side="left")
    counts = np.searchsorted(gt_frames, frames, side="right") - low
    total = int(counts.sum())
    det = np.repeat(np.arange(len(frames)), counts)
    gt = np.repeat(low - (np.cumsum(counts) - counts), counts) + np.arange(total)
    hit = pair_iou(gt_boxes[gt], boxes[det]) >= iou
    detected, matched = np.zeros(len(gt_frames), bool), np.zeros(len(frames), bool)
    detected[gt[hit]] = True
    matched[det[hit]] = True
    return detected, matched


def sweep_thresholds(
    frame_maxima: np.ndarray, pixel_counts: np.ndarray, n_thresholds: int = 40
) -> np.ndarray:
    """Ascending thresholds ending with +inf: ``n_thresholds - n_thresholds // 2`` quantiles of
    the per-frame maxima and ``n_thresholds // 2`` high pixel quantiles from a histogram of
    ``score_codes`` (lower code edges), duplicates removed."""
    n_pixel, frame_maxima = n_thresholds // 2, np.asarray(frame_maxima, np.float64)
    values = [np.zeros(0)]
    if frame_maxima.size:
        levels = np.linspace(0.0, 1.0, n_thresholds - n_pixel)
        values.append(np.quantile(frame_maxima, levels, method="lower"))
    if n_pixel and np.sum(pixel_counts) > 0:
        pixel_levels = 1.0 - np.geomspace(0.5, 1e-4, n_pixel)
        values.append(histogram_quantiles(pixel_counts, pixel_levels).astype(np.float64))
    return np.r_[np.unique(np.concatenate(values)), np.inf]


def curve_area(fpr: np.ndarray, values: np.ndarray, max_fpr: float = 1.0) -> float:
    """Area under (fpr, values) over FPR in [0, max_fpr] / max_fpr, see module doc."""
    x, y = np.r_[0.0, np.asarray(fpr, float)], np.r_[0.0, np.asarray(values, float)]
    order = np.lexsort((y, x))
    x, y = x[order], np.maximum.accumulate(y[order])
    inside = int(np.searchsorted(x, max_fpr, side="right"))
    end = y[inside - 1]
    if inside < len(x):
        share = (max_fpr - x[inside - 1]) / (x[inside] - x[inside - 1])
        end = y[inside - 1] + share * (y[inside] - y[inside - 1])
    x, y = np.r_[x[:inside], max_fpr], np.r_[y[:inside], end]
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2) / max_fpr)


class RegionMetrics:
    """RBDC / TBDC / FPR at fixed ``thresholds``, accumulated video by video (maps and
    thresholds compared as float32, as ``check_video`` gives the maps)."""

    def __init__(
        self, thresholds: np.ndarray, *, iou: float = 0.1, track_fraction: float = 0.1
    ) -> None:
        self.thresholds = np.asarray(thresholds, dtype=np.float32)
        self.iou, self.track_fraction = iou, track_fraction
        n = len(self.thresholds)
        self._detected, self._false = np.zeros(n, np.int64), np.zeros(n, np.int64)
        self._tracked = np.zeros(n, np.int64)
        self.frames = self.regions = self.tracks = 0

    def update(self, maps: np.ndarray, masks: np.ndarray) -> None:
        """Adds one video: ``maps`` and ``masks`` (T, H, W)."""
        maps, masks = check_video("", maps, masks)
        gt_frames, gt_boxes = connected_regions(masks, True)
        tracks = link_tracks(gt_frames, gt_boxes)
        lengths = np.bincount(tracks)
        needed = np.maximum(np.ceil(self.track_fraction * lengths - 1e-9), 0)
        maxima = _frame_maxima(maps)
        for j, threshold in enumerate(self.thresholds):
            shown = np.flatnonzero(maxima >= threshold)
            frames, boxes = connected_regions(maps, threshold, shown)
            detected, matched = match_regions(gt_frames, gt_boxes, frames, boxes, self.iou)
            self._detected[j] += detected.sum()
            self._false[j] += len(frames) - matched.sum()
            hits = np.bincount(tracks[detected], minlength=len(lengths))
            self._tracked[j] += np.count_nonzero(hits >= needed)
        self.frames += len(maps)
        self.regions += len(gt_frames)
        self.tracks += len(lengths)

    def curves(self) -> dict[str, np.ndarray]:
        """``threshold``, ``fpr``, ``rbdc`` and ``tbdc`` per threshold (NaN when undefined)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return {
                "threshold": self.thresholds,
                "fpr": self._false / np.float64(self.frames),
                "rbdc": self._detected / np.float64(self.regions),
                "tbdc": self._tracked / np.float64(self.tracks),
            }

    def compute(self, max_fpr: float = 1.0) -> dict[str, float]:
        """``rbdc`` and ``tbdc``: areas under the curves up to ``max_fpr`` (NaN without regions)."""
        curves = self.curves()
        return {
            key: curve_area(curves["fpr"], curves[key], max_fpr) if count else math.nan
            for key, count in (("rbdc", self.regions), ("tbdc", self.tracks))
        }


def rbdc_tbdc(
    videos: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    iou: float = 0.1,
    track_fraction: float = 0.1,
    max_fpr: float = 1.0,
    n_thresholds: int = 40,
) -> dict[str, float]:
    """``rbdc`` and ``tbdc`` of (maps, masks) videos at ``sweep_thresholds`` (two passes)."""
    maxima, pixels = [np.zeros(0)], PixelAUROC()
    for index, (maps, masks) in enumerate(videos):
        maps, masks = check_video(str(index), maps, masks)
        pixels.update(maps, masks)
        maxima.append(_frame_maxima(maps))
    thresholds = sweep_thresholds(np.concatenate(maxima), pixels.counts, n_thresholds)
    metrics = RegionMetrics(thresholds, iou=iou, track_fraction=track_fraction)
    for maps, masks in videos:
        metrics.update(maps, masks)
    return metrics.compute(max_fpr)
