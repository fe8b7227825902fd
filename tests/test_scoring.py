"""Per-frame errors, score assembly, normalisation, smoothing and metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.ndimage import gaussian_filter1d, median_filter
from sklearn.metrics import average_precision_score, roc_auc_score

from vad.data.cache import CachedVideo
from vad.errors import ScoreFileError
from vad.models.prediction_errors import frame_errors, patch_max
from vad.scoring.alignment import check_alignment
from vad.scoring.assemble import assemble_scores
from vad.scoring.frame_scores import anomaly_score
from vad.scoring.metrics import average_precision, evaluate, roc_auc
from vad.scoring.normalization import normalize
from vad.scoring.pipeline import anomaly_scores
from vad.scoring.smoothing import gaussian_smooth, median_smooth, smooth


def test_frame_errors_values() -> None:
    target = torch.zeros(2, 1, 8, 8)
    pred = torch.zeros(2, 1, 8, 8)
    pred[1, 0, :4, :4] = 1.0  # error 0.5 in [0, 1] scale on a quarter of the pixels
    errors = frame_errors(pred, target, patch_size=4)
    # exact: frame 0 has pred == target, every squared difference is 0
    assert errors["mse"][0] == 0 and errors["mse"][1] == pytest.approx(0.25 * 0.25)
    assert errors["psnr"][1] == pytest.approx(10 * np.log10(1 / 0.0625))
    assert errors["psnr"][0] == pytest.approx(100.0)  # clamped, finite
    assert errors["patch_max"][1] == pytest.approx(0.25)  # a 4x4 patch fully inside the error


def test_psnr_is_negated_into_an_anomaly_score() -> None:
    scores = pd.DataFrame({"psnr": [30.0, 20.0], "mse": [0.1, 0.2]})
    # exact: a sign flip and a copy, no rounding
    assert anomaly_score(scores, "psnr").tolist() == [-30.0, -20.0]
    assert anomaly_score(scores, "mse").tolist() == [0.1, 0.2]


def _video(name: str, ids: list[int], labels: list[int] | None = None) -> CachedVideo:
    ids_arr = np.asarray(ids)
    return CachedVideo(
        "test",
        name,
        f"/data/{name}",
        None,
        ids_arr,
        ids_arr,
        None if labels is None else np.asarray(labels, dtype=np.uint8),
        pd.DataFrame(index=pd.Index(ids_arr, name="frame")),
    )


def test_max_aggregate_keeps_the_most_anomalous_value_of_every_column() -> None:
    """Two objects (or clips) score frame 0: max is the higher error and the *lower* PSNR."""
    raw = pd.DataFrame(
        {"video": "01", "frame": [0, 0, 1], "psnr": [30.0, 20.0, 25.0], "mse": [0.1, 0.3, 0.2]}
    )
    out = assemble_scores(raw, [_video("01", [0, 1])], aggregate="max")
    # exact: max and min pick stored values
    assert out["psnr"].tolist() == [20.0, 25.0] and out["mse"].tolist() == [0.3, 0.2]


def test_assemble_fills_warmup_frames_and_aggregates() -> None:
    # video "01" has frames 10..15 and 20..23 (a gap); clips of 3 frames score their last frame
    video = _video("01", [10, 11, 12, 13, 14, 15, 20, 21, 22, 23], [0] * 6 + [1] * 4)
    raw = pd.DataFrame(
        {
            "video": "01",
            "frame": [12, 13, 14, 15, 22, 23, 22],
            "mse": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )
    out = assemble_scores(raw, [video], aggregate="mean")
    assert out["frame"].tolist() == [10, 11, 12, 13, 14, 15, 20, 21, 22, 23]
    # exact: copies of scored values, and (5 + 7) / 2 = 6 is exact in binary
    assert out["mse"].tolist() == [1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 6.0, 6.0, 6.0, 6.0]
    assert out["filled"].tolist() == [1, 1, 0, 0, 0, 0, 1, 1, 0, 0]
    assert out["label"].tolist() == [0] * 6 + [1] * 4
    assert assemble_scores(raw, [video], aggregate="max")["mse"].tolist()[-2] == 7.0  # exact: max


def test_assemble_errors_on_unscored_video_and_drops_unknown_frames() -> None:
    raw = pd.DataFrame({"video": ["01", "01"], "frame": [1, 99], "mse": [1.0, 2.0]})
    out = assemble_scores(raw, [_video("01", [0, 1, 2])])
    assert out["frame"].tolist() == [0, 1, 2]  # frame 99 (not in the source) is not scored
    with pytest.raises(ScoreFileError, match="'02'"):
        assemble_scores(raw, [_video("01", [0, 1, 2]), _video("02", [0, 1])])


def test_normalize_per_video_and_constant_video() -> None:
    scores = pd.Series([1.0, 3.0, 5.0, 7.0, 7.0])
    videos = pd.Series(["a", "a", "a", "b", "b"])
    # exact: (s - 1) / 4 of small integers; the constant video takes the zero branch
    assert normalize(scores, videos, "minmax").tolist() == [0.0, 0.5, 1.0, 0.0, 0.0]
    z = normalize(scores, videos, "zscore")
    assert z[:3].mean() == pytest.approx(0) and z[:3].std(ddof=0) == pytest.approx(1)
    assert z[3:].tolist() == [0.0, 0.0]  # exact: std of [7, 7] is 0, the zero branch
    assert normalize(scores, videos, "none").tolist() == scores.tolist()  # exact: copied
    with pytest.raises(ValueError):
        normalize(scores, videos, "global")


def test_smoothing_stays_within_videos_and_respects_gaps() -> None:
    values = np.array([0.0, 0.0, 0.0, 10.0, 10.0, 10.0])
    videos = pd.Series(["a", "a", "a", "b", "b", "b"])
    frames = pd.Series([0, 1, 2, 0, 1, 2])
    out = smooth(pd.Series(values), videos, frames, sigma=2.0)
    assert out[:3].tolist() == [0.0, 0.0, 0.0]  # exact: a weighted sum of zeros is 0
    # a weighted mean of three equal float64 values: rounding of its few products and sums is
    # a few ulps (~1e-15 relative); 1e-12 allows ~4500 ulps and nothing a leak from video a gives
    np.testing.assert_allclose(out[3:], [10.0, 10.0, 10.0], rtol=1e-12, atol=0)
    # ids 0, 1 and 100: the far frame is outside the kernel, the near ones mix
    smoothed = gaussian_smooth(np.array([0.0, 1.0, 5.0]), np.array([0, 1, 100]), sigma=1.0)
    assert smoothed[2] == 5.0  # exact: no neighbour within the kernel, 5.0 * 1 / 1
    assert 0 < smoothed[0] < smoothed[1] < 1
    impulse = gaussian_smooth(np.eye(1, 21, 10).ravel(), np.arange(21), sigma=2.0)
    assert impulse.argmax() == 10 and impulse.sum() == pytest.approx(1, abs=0.05)


def test_metrics_match_sklearn_on_random_data() -> None:
    rng = np.random.default_rng(0)
    for _ in range(5):
        labels = rng.integers(0, 2, 500)
        scores = rng.normal(size=500) + labels * rng.uniform(0, 2)
        scores[:50] = np.round(scores[:50], 1)  # ties
        expected = roc_auc_score(labels, scores)
        assert roc_auc(labels, scores * 1e4) == pytest.approx(expected, abs=1e-6)
        assert average_precision(labels, scores - 80) == pytest.approx(
            average_precision_score(labels, scores), abs=1e-6
        )


def test_evaluate_macro_skips_one_class_videos() -> None:
    frame = pd.DataFrame(
        {
            "video": ["a"] * 4 + ["b"] * 3,
            "label": [0, 0, 1, 1, 1, 1, 1],
            "score": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
        }
    )
    summary, videos = evaluate(frame)
    # exact: video a's 2 + 2 frames put every FPR and TPR on a multiple of 1/2, whose trapezoid
    # sum is exact in binary
    assert summary["macro_auc"] == 1.0 and summary["macro_videos"] == 1
    assert np.isnan(videos.set_index("video").loc["b", "auc"])
    assert summary["micro_auc"] == pytest.approx(roc_auc_score(frame["label"], frame["score"]))


def test_patch_max_k_is_configurable() -> None:
    errors = torch.zeros(1, 1, 8, 8)
    errors[0, 0, 0, 0] = 1.0  # one bad pixel
    assert patch_max(errors, 1) == 1.0  # exact: a 1 x 1 average pool divides by 1
    assert patch_max(errors, 2) == pytest.approx(1 / 4)
    assert patch_max(errors, 4) == pytest.approx(1 / 16)
    assert patch_max(errors, 100) == pytest.approx(1 / 64)  # clipped to the frame
    with pytest.raises(ValueError):
        patch_max(errors, 0)


def test_smoothing_matches_scipy_inside_a_run() -> None:
    rng = np.random.default_rng(0)
    values, ids = rng.normal(size=120), np.arange(120)
    gauss = gaussian_smooth(values, ids, 3.0)
    assert gauss[12:-12] == pytest.approx(gaussian_filter1d(values, 3.0, truncate=4.0)[12:-12])
    median = median_smooth(values, ids, 5)
    assert median[2:-2] == pytest.approx(median_filter(values, 5)[2:-2])


def test_median_is_gap_aware_and_stays_within_videos() -> None:
    # ids 0..4 then 10..14: the spike at id 4 has no neighbour beyond the gap
    values = np.array([0.0, 0.0, 0.0, 0.0, 9.0, 5.0, 5.0, 5.0, 5.0, 5.0])
    ids = np.array([0, 1, 2, 3, 4, 10, 11, 12, 13, 14])
    out = median_smooth(values, ids, 3)
    # exact here and below: medians pick stored values, and (0 + 9) / 2 = 4.5 is exact
    assert out.tolist() == [0, 0, 0, 0, 4.5, 5, 5, 5, 5, 5]  # id 4: median of {0, 9}
    videos = pd.Series(["a"] * 5 + ["b"] * 5)
    frames = pd.Series([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])  # b continues a's ids, still separate
    both = smooth(pd.Series(values), videos, frames, sigma=0.0, median=3)
    assert both.tolist() == [0, 0, 0, 0, 4.5, 5, 5, 5, 5, 5]
    assert median_smooth(values, ids, 1).tolist() == values.tolist()  # window 1: off, copied


def test_smoothing_follows_frame_ids_not_row_order() -> None:
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"video": ["a"] * 30, "frame": np.arange(30), "mse": rng.random(30)})
    shuffled = table.sample(frac=1, random_state=0)
    out = anomaly_scores(shuffled, "mse", "none", sigma=2.0, median=3)
    expected = anomaly_scores(table, "mse", "none", sigma=2.0, median=3)
    assert out.sort_index().tolist() == pytest.approx(expected.tolist())


def test_pipeline_normalises_then_smooths() -> None:
    table = pd.DataFrame({"video": ["a"] * 5, "frame": range(5), "mse": [0, 0, 10, 0, 0.0]})
    out = anomaly_scores(table, "mse", "minmax", sigma=1.0)
    expected = gaussian_smooth(np.array([0, 0, 1, 0, 0.0]), np.arange(5), 1.0)
    assert out.tolist() == pytest.approx(expected.tolist())


def _layout(videos: dict[str, list[int]], labels: dict[str, list[int]] | None = None):
    labels = labels or {}
    return pd.DataFrame(
        {
            "video": list(videos),
            "frame_ids": [np.asarray(ids) for ids in videos.values()],
            "labels": [
                np.asarray(labels[v], dtype=np.uint8) if v in labels else None for v in videos
            ],
        }
    )


def test_alignment_check_names_the_video() -> None:
    scores = pd.DataFrame(
        {"video": ["01"] * 3 + ["02"] * 2, "frame": [0, 1, 2, 5, 6], "label": [0, 1, 1, 0, 0]}
    )
    check_alignment(scores, _layout({"01": [0, 1, 2], "02": [5, 6]}, {"01": [0, 1, 1]}))
    with pytest.raises(ScoreFileError, match=r"video '02' has 2 scored frames .* reports 3"):
        check_alignment(scores, _layout({"01": [0, 1, 2], "02": [5, 6, 7]}))
    with pytest.raises(ScoreFileError, match=r"video '02'.*unexpected ids \[6\]"):
        check_alignment(scores, _layout({"01": [0, 1, 2], "02": [5, 7]}))
    with pytest.raises(ScoreFileError, match=r"video\(s\) \['02'\] are not in"):
        check_alignment(scores, _layout({"01": [0, 1, 2]}))
    with pytest.raises(ScoreFileError, match="video '03' has 0 scored frames"):
        check_alignment(scores, _layout({"01": [0, 1, 2], "02": [5, 6], "03": [0]}))
    with pytest.raises(ScoreFileError, match=r"video '01': labels of 1 frames differ"):
        check_alignment(scores, _layout({"01": [0, 1, 2], "02": [5, 6]}, {"01": [0, 0, 1]}))
