"""Pixel-level localisation metrics: golden hand-computed cases, and agreement with direct
definitions (pooled ``roc_auc``, the UCSD criterion frame by frame, RBDC per frame with cv2)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from vad.scoring.localisation_metrics import pixel_metrics
from vad.scoring.metrics import roc_auc
from vad.scoring.pixel_metrics import (
    PixelAUROC,
    code_floor,
    histogram_quantiles,
    score_codes,
    ucsd_frame_scores,
    ucsd_pixel_criterion,
)
from vad.scoring.region_metrics import (
    RegionMetrics,
    curve_area,
    link_tracks,
    rbdc_tbdc,
    sweep_thresholds,
)


def _auroc(*videos: tuple[np.ndarray, np.ndarray]) -> float:
    metric = PixelAUROC()
    for maps, masks in videos:
        metric.update(maps, masks)
    return metric.compute()


def test_codes_are_monotone_and_floors_invert_them() -> None:
    values = np.sort(np.r_[np.random.default_rng(0).normal(size=999) * 1e3, -0.0, 0.0, 1e-30])
    codes = score_codes(values)
    assert (np.diff(codes.astype(np.int64)) >= 0).all() and codes.max() < 2**20
    assert score_codes(np.float32(-0.0)) == score_codes(np.float32(0.0))
    floors = code_floor(codes)
    assert (floors <= values.astype(np.float32)).all()
    assert (score_codes(floors) == codes).all()  # the floor lies in its own code
    assert (np.abs(floors - values) <= 5e-4 * np.abs(values) + 1e-30).all()


def test_pixel_auroc_golden_2x2_frame_with_a_tie() -> None:
    # positives {2, 3}, negatives {1, 2}: pairs 2>1, 2=2 (one half), 3>1, 3>2 -> 3.5 / 4
    maps = np.array([[[1.0, 2.0], [2.0, 3.0]]])
    masks = np.array([[[0, 1], [0, 1]]], dtype=np.uint8)
    # exact: integer pixel counts (and halves for ties) over n_pos * n_neg = 4
    assert _auroc((maps, masks)) == 0.875
    assert _auroc((maps[:, :1], masks[:, :1]), (maps[:, 1:], masks[:, 1:])) == 0.875


@pytest.mark.parametrize("seed", range(4))
def test_pixel_auroc_equals_pooled_roc_auc(seed: int) -> None:
    rng = np.random.default_rng(seed)
    videos = []
    for _ in range(3):
        masks = rng.random((4, 6, 7)) < 0.3
        # multiples of 1/8 below 256 in magnitude: <= 11 significant bits, nothing lost to the
        # quantisation; many ties
        maps = (rng.integers(-800, 800, size=masks.shape) + masks * rng.integers(0, 1200)) / 8
        videos.append((maps, masks))
    pooled = roc_auc(
        np.concatenate([k.ravel() for _, k in videos]),
        np.concatenate([m.ravel() for m, _ in videos]),
    )
    assert _auroc(*videos) == pytest.approx(pooled, abs=1e-6)


def test_pixel_auroc_close_on_arbitrary_floats_nan_with_one_class() -> None:
    rng = np.random.default_rng(5)
    masks = rng.random((3, 20, 20)) < 0.2
    maps = rng.normal(size=masks.shape) * 1e4 + masks * 5e3
    assert _auroc((maps, masks)) == pytest.approx(roc_auc(masks.ravel(), maps.ravel()), abs=1e-3)
    assert math.isnan(_auroc((maps, np.zeros_like(masks))))
    assert math.isnan(PixelAUROC().compute())
    with pytest.raises(ValueError, match="NaN"):
        PixelAUROC().update(np.full((1, 2, 2), np.nan), np.zeros((1, 2, 2)))


def test_all_tied_pixels_give_one_half() -> None:
    masks = np.array([[[1, 0], [0, 0]]], bool)
    assert _auroc((np.full((1, 2, 2), -3.5), masks)) == 0.5  # exact: 1.5 / 3 of counts


def _ucsd_frames() -> tuple[np.ndarray, np.ndarray]:
    """Three anomalous frames (scores 0.9, 0.7, 0.2) then three normal ones (0.8, 0.3, 0.1)."""
    maps, masks = np.zeros((6, 4, 5)), np.zeros((6, 4, 5), bool)
    masks[0, 0, :5] = True  # 5 pixels, k = 2: exactly 40% at t = 0.9
    maps[0, 0, :5] = [1.0, 0.9, 0.05, 0.05, 0.05]
    maps[0, 3, 4] = 0.99  # outside the mask: ignored
    masks[1, :2, :5] = True  # 10 pixels, k = 4
    maps[1, :2, :5] = [[0.9, 0.8, 0.75, 0.7, 0.6], [0.1] * 5]
    masks[2, 0, :3] = True  # 3 pixels, k = 2: one pixel at 0.95 is only 33%
    maps[2, 0, :3] = [0.95, 0.2, 0.1]
    maps[3, 2, 2], maps[4, 1, 1], maps[5, 0, 0] = 0.8, 0.3, 0.1
    return maps, masks


def test_ucsd_frame_scores_are_the_40_percent_order_statistic() -> None:
    labels, scores = ucsd_frame_scores(*_ucsd_frames())
    assert labels.tolist() == [1, 1, 1, 0, 0, 0]
    assert scores.tolist() == pytest.approx([0.9, 0.7, 0.2, 0.8, 0.3, 0.1])
    masks = np.zeros((1, 3, 5), bool)
    masks[0] = True  # 15 pixels: k = 6 although 0.4 * 15 = 6.000000000000001
    maps = np.arange(15.0).reshape(1, 3, 5)
    assert ucsd_frame_scores(maps, masks)[1][0] == 9.0  # exact: an order statistic, copied


def test_ucsd_criterion_golden() -> None:
    # ROC of (0.9, 0.7, 0.2 | 0.8, 0.3, 0.1): (0, 1/3) (1/3, 1/3) (1/3, 2/3) ... FNR = FPR = 1/3
    # at (1/3, 2/3); AUC = pairs won 3 + 2 + 1 over 9
    result = ucsd_pixel_criterion(*ucsd_frame_scores(*_ucsd_frames()))
    assert result["ucsd_pixel_rd"] == pytest.approx(2 / 3)
    assert result["ucsd_pixel_auc"] == pytest.approx(2 / 3)


def test_ucsd_scores_match_the_criterion_at_every_threshold() -> None:
    rng = np.random.default_rng(1)
    maps = rng.integers(0, 6, size=(30, 4, 4)).astype(float)
    masks = rng.random((30, 4, 4)) < rng.uniform(0, 0.6, size=(30, 1, 1))
    labels, scores = ucsd_frame_scores(maps, masks)
    for t in np.unique(maps):
        above = maps >= t
        covered = (above & masks).sum(axis=(1, 2)) >= 0.4 * masks.sum(axis=(1, 2))
        hit = np.where(labels == 1, covered, above.any(axis=(1, 2)))
        assert ((scores >= t) == hit).all()


def _rect(array: np.ndarray, frame: int, y: int, x: int, h: int, w: int, value=True) -> None:
    array[frame, y : y + h, x : x + w] = value


def _at(maps: np.ndarray, masks: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    metric = RegionMetrics([threshold])
    metric.update(maps, masks)
    return {key: float(value[0]) for key, value in metric.curves().items()}


def test_detection_of_one_of_two_boxes_and_a_false_positive_in_a_normal_frame() -> None:
    maps, masks = np.zeros((2, 20, 20)), np.zeros((2, 20, 20), bool)
    _rect(masks, 0, 2, 2, 4, 4)
    _rect(masks, 0, 12, 12, 4, 4)
    _rect(maps, 0, 2, 2, 4, 4, 1.0)  # detects the first box only
    _rect(maps, 1, 0, 0, 2, 2, 1.0)  # normal frame: a false positive
    at = _at(maps, masks)
    # exact: ratios of integer counts (1 / 2)
    assert (at["rbdc"], at["tbdc"], at["fpr"]) == (0.5, 0.5, 0.5)


@pytest.mark.parametrize(("width", "detected"), [(10, True), (9, False)])
def test_iou_boundary(width: int, detected: bool) -> None:
    # a 1 x width line inside a 10 x 10 box: IoU = width / 100
    maps, masks = np.zeros((1, 12, 12)), np.zeros((1, 12, 12), bool)
    _rect(masks, 0, 1, 1, 10, 10)
    _rect(maps, 0, 1, 1, 1, width, 1.0)
    at = _at(maps, masks)
    assert (at["rbdc"], at["fpr"]) == ((1.0, 0.0) if detected else (0.0, 1.0))  # exact: counts


@pytest.mark.parametrize(("frames", "tbdc"), [(10, 1.0), (11, 0.0)])
def test_a_track_needs_ten_percent_of_its_regions(frames: int, tbdc: float) -> None:
    maps, masks = np.zeros((frames, 10, 30)), np.zeros((frames, 10, 30), bool)
    for f in range(frames):
        _rect(masks, f, 2, f, 4, 4)  # moves one pixel a frame: one track
    _rect(maps, 3, 2, 3, 4, 4, 1.0)
    at = _at(maps, masks)
    # tbdc and fpr exact: 1 / 1 or 0 / 1 and 0 / n
    assert (at["rbdc"], at["tbdc"], at["fpr"]) == (pytest.approx(1 / frames), tbdc, 0.0)


def test_link_tracks() -> None:
    frames = np.array([0, 0, 1, 1, 3, 4, 4])
    boxes = np.array(
        [
            [0, 0, 4, 4],
            [10, 10, 14, 14],
            [11, 11, 15, 15],  # continues track 1
            [1, 0, 5, 4],  # continues track 0
            [1, 0, 5, 4],  # frame 2 is empty: a new track
            [1, 0, 4, 4],  # both overlap the frame-3 box: the larger IoU continues it
            [0, 0, 5, 4],
        ]
    )
    assert link_tracks(frames, boxes).tolist() == [0, 1, 1, 0, 2, 3, 2]


def _staircase() -> tuple[np.ndarray, np.ndarray]:
    """Boxes A (0.9) and B (0.5) in frame 0, false positives 0.7 and 0.3 in normal frame 1."""
    maps, masks = np.zeros((2, 20, 20)), np.zeros((2, 20, 20), bool)
    _rect(masks, 0, 1, 1, 4, 4)
    _rect(masks, 0, 10, 10, 4, 4)
    _rect(maps, 0, 1, 1, 4, 4, 0.9)
    _rect(maps, 0, 10, 10, 4, 4, 0.5)
    _rect(maps, 1, 1, 1, 3, 3, 0.7)
    _rect(maps, 1, 10, 10, 3, 3, 0.3)
    return maps, masks


def test_curve_and_its_area_by_hand() -> None:
    # (fpr, rbdc) = (0, 1/2) (1/2, 1/2) (1/2, 1) (1, 1): area 1/4 + 1/2
    metric = RegionMetrics([0.9, 0.7, 0.5, 0.3, np.inf])
    metric.update(*_staircase())
    curves = metric.curves()
    # exact: counts over 2 frames or 2 regions are multiples of 1/2; the trapezoids of such
    # values, and the division by max_fpr = 0.5, are exact in binary
    assert curves["fpr"].tolist() == [0, 0.5, 0.5, 1, 0]
    assert curves["rbdc"].tolist() == [0.5, 0.5, 1, 1, 0]
    assert metric.compute() == {"rbdc": 0.75, "tbdc": 0.75}
    assert metric.compute(max_fpr=0.5) == {"rbdc": 0.5, "tbdc": 0.5}


def test_curve_area_interpolates_at_max_fpr_and_extends_flat() -> None:
    # (0, 0) (0.5, 0.5) (2, 1): value 2/3 at FPR 1; area 1/8 + (1/2 + 2/3) / 4 = 5/12
    assert curve_area([0.5, 2.0], [0.5, 1.0]) == pytest.approx(5 / 12)
    assert curve_area([0.25, 0.5], [1.0, 1.0]) == pytest.approx(0.875)  # flat after 0.5
    # a value falling at a higher FPR is raised to the best one before it: (0, 0) (0.5, 1) (0.8, 1)
    assert curve_area([0.5, 0.8], [1.0, 0.0]) == pytest.approx(0.75)


def _brute_force(maps: np.ndarray, masks: np.ndarray, t: float) -> tuple[int, int, int]:
    """(detected GT regions, GT regions, false positives) frame by frame, straight from cv2."""

    def boxes(binary: np.ndarray) -> list[tuple[int, int, int, int]]:
        stats = cv2.connectedComponentsWithStats(binary.astype(np.uint8), connectivity=8)[2]
        return [(x, y, x + w, y + h) for x, y, w, h, _ in stats[1:]]

    def iou(a: tuple[int, ...], b: tuple[int, ...]) -> float:
        w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
        area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
        return w * h / (area - w * h)

    detected = total = false = 0
    for frame, mask in zip(maps, masks, strict=True):
        gts, dets = boxes(mask), boxes(frame >= t)
        total += len(gts)
        detected += sum(any(iou(g, d) >= 0.1 for d in dets) for g in gts)
        false += sum(all(iou(g, d) < 0.1 for g in gts) for d in dets)
    return detected, total, false


def test_region_counts_match_a_frame_by_frame_count() -> None:
    rng = np.random.default_rng(2)
    masks = np.zeros((12, 16, 16), bool)
    for f in range(0, 12, 2):
        y, x = rng.integers(0, 10, 2)
        _rect(masks, f, y, x, 6, 5)
    maps = cv2.GaussianBlur(rng.random((12 * 16, 16)), (5, 5), 1.0).reshape(12, 16, 16)
    maps = (maps + masks * 0.1).astype(np.float32)  # compared as float32, like the metric
    thresholds = np.quantile(maps, [0.5, 0.8, 0.95, 0.99]).astype(np.float32)
    metric = RegionMetrics(thresholds)
    metric.update(maps[:5], masks[:5])
    metric.update(maps[5:], masks[5:])
    curves = metric.curves()
    for j, t in enumerate(thresholds):
        detected, total, false = _brute_force(maps, masks, t)
        # exact: both sides are one correctly rounded division of the same integer counts
        assert curves["rbdc"][j] == detected / total
        assert curves["fpr"][j] == false / 12


def test_sweep_thresholds_span_frame_maxima_and_end_at_inf() -> None:
    maxima = np.linspace(1, 2, 101)
    counts = np.zeros(2**20, np.int64)
    counts[score_codes(np.linspace(0, 2, 1000))] += 1
    thresholds = sweep_thresholds(maxima, counts, 30)
    # exact: +inf, and frame maxima picked (method "lower"), 1.0 and 2.0 being linspace's ends
    assert thresholds[-1] == np.inf and (np.diff(thresholds) > 0).all()
    assert {1.0, 2.0} <= set(thresholds.tolist()) and 20 <= len(thresholds) <= 31
    assert thresholds[0] == pytest.approx(1.0, abs=1e-2)  # pixel quantile at level 1/2
    # exact: 0 and 2 are the lower edges of their own codes (bit operations, no arithmetic)
    assert histogram_quantiles(counts, [0.0, 1.0]).tolist() == [0.0, 2.0]


def test_no_ground_truth_region_gives_nan() -> None:
    maps = np.random.default_rng(3).random((3, 8, 8))
    result = rbdc_tbdc([(maps, np.zeros(maps.shape, bool))])
    assert math.isnan(result["rbdc"]) and math.isnan(result["tbdc"])


def test_pixel_metrics_entry_point() -> None:
    maps, masks = _staircase()
    videos = [("a", maps, masks), ("b", *_ucsd_frames())]
    result = pixel_metrics(iter(videos))
    keys = "pixel_auroc ucsd_pixel_rd ucsd_pixel_auc rbdc tbdc pixel_frames"
    assert set(result) == set(keys.split())
    assert result["pixel_frames"] == 8
    all_maps = np.concatenate([maps.ravel(), _ucsd_frames()[0].ravel()])
    all_masks = np.concatenate([masks.ravel(), _ucsd_frames()[1].ravel()])
    assert result["pixel_auroc"] == pytest.approx(roc_auc(all_masks, all_maps), abs=1e-3)
    alone = rbdc_tbdc([(m, k) for _, m, k in videos])
    # exact: the same thresholds and counts computed by the same code from the same maps
    assert (result["rbdc"], result["tbdc"]) == (alone["rbdc"], alone["tbdc"])
    assert 0 <= result["rbdc"] <= 1 and 0 <= result["tbdc"] <= 1


def test_pixel_metrics_rejects_mismatched_shapes_naming_the_video() -> None:
    good = ("fine", np.zeros((2, 4, 4)), np.zeros((2, 4, 4), bool))
    with pytest.raises(ValueError, match="'broken'"):
        pixel_metrics([good, ("broken", np.zeros((2, 4, 4)), np.zeros((2, 4, 5), bool))])
