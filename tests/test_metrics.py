"""Metrics against scikit-learn (golden, 1e-6), both macro AUC conventions, EER, curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from vad.scoring.metrics import (
    average_precision,
    equal_error_rate,
    evaluate,
    padded_roc_auc,
    precision_recall_curve,
    roc_auc,
    roc_curve,
)


def _random_table(seed: int, videos: int = 6, frames: int = 120) -> pd.DataFrame:
    """Scores on very different scales per video (raw errors), with ties and one-class videos."""
    rng = np.random.default_rng(seed)
    parts = []
    for v in range(videos):
        labels = (rng.random(frames) < rng.uniform(0.1, 0.7)).astype(int)
        if v == 0:
            labels[:] = 0  # a normal-only video
        if v == 1:
            labels[:] = 1  # an anomalous-only video
        scores = rng.normal(size=frames) + labels * rng.uniform(0, 2)
        scores = np.round(scores, 1) * 10.0 ** rng.integers(-3, 5)  # ties, sigmoid-hostile ranges
        parts.append(pd.DataFrame({"video": f"{v:02d}", "label": labels, "score": scores}))
    return pd.concat(parts, ignore_index=True)


def _sk_eer(labels: np.ndarray, scores: np.ndarray) -> float:
    """EER from scikit-learn's ROC points, crossing of FNR and FPR by linear interpolation."""
    fpr, tpr, _ = sk_roc_curve(labels, scores, drop_intermediate=False)
    gap = 1 - tpr - fpr
    i = int(np.argmax(gap <= 0))
    t = gap[i - 1] / (gap[i - 1] - gap[i]) if gap[i] != 0 else 1.0
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))


@pytest.mark.parametrize("seed", range(4))
def test_golden_against_sklearn(seed: int) -> None:
    frame = _random_table(seed)
    summary, videos = evaluate(frame)
    labels, scores = frame["label"].to_numpy(), frame["score"].to_numpy()
    assert summary["micro_auc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-6)
    assert summary["ap"] == pytest.approx(average_precision_score(labels, scores), abs=1e-6)
    assert summary["eer"] == pytest.approx(_sk_eer(labels, scores), abs=1e-6)
    two_class, padded = [], []
    for video, group in frame.groupby("video"):
        y, s = group["label"].to_numpy(), group["score"].to_numpy()
        row = videos.set_index("video").loc[video]
        pad_y, pad_s = np.r_[0, y, 1], np.r_[s.min() - 1, s, s.max() + 1]
        padded.append(roc_auc_score(pad_y, pad_s))
        assert row["auc_padded"] == pytest.approx(padded[-1], abs=1e-6)
        if y.min() != y.max():
            two_class.append(roc_auc_score(y, s))
            assert row["auc"] == pytest.approx(two_class[-1], abs=1e-6)
            assert row["ap"] == pytest.approx(average_precision_score(y, s), abs=1e-6)
        else:
            assert np.isnan(row["auc"])
    assert summary["macro_auc"] == pytest.approx(np.mean(two_class), abs=1e-6)
    assert summary["macro_auc_padded"] == pytest.approx(np.mean(padded), abs=1e-6)
    assert summary["macro_videos"] == len(two_class) == 4 and summary["videos"] == 6


def test_padded_convention_matches_aivad_code_on_positive_scores() -> None:
    # AI-VAD pads with (label 0, score 0) and (label 1, float max); on positive scores both pads
    # are strictly outside the video's scores, as ours are
    rng = np.random.default_rng(3)
    labels, scores = rng.integers(0, 2, 50), rng.uniform(0.1, 5, 50)
    reference = roc_auc_score(np.r_[0, labels, 1], np.r_[0, scores, np.finfo(float).max])
    assert padded_roc_auc(labels, scores) == pytest.approx(reference, abs=1e-6)


def test_one_class_videos_do_not_crash_macro_auc() -> None:
    frame = pd.DataFrame(
        {
            "video": ["a"] * 3 + ["b"] * 3 + ["c"] * 4,
            "label": [0, 0, 0, 1, 1, 1, 0, 0, 1, 1],
            "score": [0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.1, 0.9, 0.8, 0.95],
        }
    )
    summary, videos = evaluate(frame)
    assert summary["macro_videos"] == 1 and summary["macro_auc"] == pytest.approx(0.75)
    # all-normal and all-anomalous videos score 1 under the padded convention
    padded = videos.set_index("video")["auc_padded"]
    # exact: with one frame of one class, FPR and TPR are multiples of 1/4 or 0 and 1, so the
    # trapezoid sum is exact in binary
    assert padded["a"] == 1.0 and padded["b"] == 1.0
    only_normal = frame.assign(label=0)
    summary, _ = evaluate(only_normal)
    assert np.isnan(summary["micro_auc"]) and np.isnan(summary["macro_auc"])
    assert np.isnan(summary["ap"]) and np.isnan(summary["eer"])


def test_eer_extremes_and_curves() -> None:
    labels = np.array([0, 0, 0, 1, 1])
    # exact: the curve crosses FPR = FNR at an ROC point (FPR 0/3 or 3/3), returned as is
    assert equal_error_rate(labels, np.array([1, 2, 3, 4, 5])) == 0.0
    assert equal_error_rate(labels, np.array([5, 4, 3, 2, 1])) == 1.0
    assert equal_error_rate(labels, np.zeros(5)) == pytest.approx(0.5)
    fpr, tpr = roc_curve(labels, np.array([1e6, -1e6, 3, 4, 5]))
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)  # exact: 0 / n and n / n
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    precision, recall = precision_recall_curve(labels, np.array([1, 2, 3, 4, 5]))
    assert recall[0] == 1 and precision[-1] == 1 and recall[-1] == 0  # exact: n / n, end point
    with pytest.raises(ValueError, match="both"):
        roc_curve(np.zeros(3), np.arange(3))


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="NaN"):
        roc_auc(np.array([0, 1]), np.array([0.5, np.nan]))
    with pytest.raises(ValueError, match="labels"):
        average_precision(np.array([0, 2]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="2 labels but 3 scores"):
        roc_auc(np.array([0, 1]), np.array([0.1, 0.2, 0.3]))
