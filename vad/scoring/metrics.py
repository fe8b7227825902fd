"""Frame-level metrics with exact thresholds (torchmetrics), anomalies as the positive class.

    micro_auc         ROC AUC over all frames of all videos pooled (the number most papers report)
    macro_auc         mean of per-video ROC AUCs over the videos with both normal and anomalous
                      frames only (a one-class video has no ROC AUC and is left out)
    macro_auc_padded  mean over *all* videos of the per-video ROC AUC after appending one normal
                      frame ranked below and one anomalous frame ranked above every frame of the
                      video: the convention of the AI-VAD (Reiss & Hoshen, 2023) and Jigsaw-VAD
                      (Wang et al., ECCV 2022) evaluation code. It is defined for one-class videos
                      (an all-normal video scores 1) and reads higher than ``macro_auc``
    ap                average precision over all frames pooled
    eer               equal error rate: where the pooled ROC curve crosses FPR = 1 - TPR
                      (linear interpolation between the exact ROC points)

AI-VAD pads with scores 0 and float max, Jigsaw-VAD with 0 and 1 on per-video min-max scores; ranks
make the pads independent of the score range (Jigsaw's pads tie with the video's extreme frames,
ours do not). Scores are rank-transformed before they reach torchmetrics: every metric here depends
only on the order of the scores, and ranks avoid torchmetrics' automatic sigmoid on values outside
[0, 1], which would merge distinct large scores into ties.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.stats import rankdata
from torchmetrics.functional.classification import (
    binary_auroc,
    binary_average_precision,
    binary_precision_recall_curve,
    binary_roc,
)


def _ranked(scores: np.ndarray) -> torch.Tensor:
    ranks = rankdata(np.asarray(scores, dtype=np.float64), method="dense")
    return torch.from_numpy(ranks / ranks.max())


def _check(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels, scores = np.asarray(labels).astype(np.int64).ravel(), np.asarray(scores).ravel()
    if labels.shape != scores.shape:
        raise ValueError(f"{len(labels)} labels but {len(scores)} scores")
    if labels.size == 0:
        raise ValueError("no frame to evaluate")
    if not np.isfinite(scores).all():
        raise ValueError("scores contain NaN or infinite values")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 0 (normal) or 1 (anomalous)")
    return labels, scores


def _two_class(labels: np.ndarray) -> bool:
    return bool(labels.min() != labels.max())


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC; NaN when only one class is present."""
    labels, scores = _check(labels, scores)
    if not _two_class(labels):
        return float("nan")
    return float(binary_auroc(_ranked(scores), torch.from_numpy(labels), thresholds=None))


def padded_roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC after adding a normal frame below and an anomalous frame above all ``scores``."""
    labels, scores = _check(labels, scores)
    low, high = scores.min() - 1.0, scores.max() + 1.0
    return roc_auc(np.r_[0, labels, 1], np.r_[low, scores, high])


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Average precision; NaN when there is no anomaly."""
    labels, scores = _check(labels, scores)
    if labels.max() == 0:
        return float("nan")
    return float(
        binary_average_precision(_ranked(scores), torch.from_numpy(labels), thresholds=None)
    )


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(FPR, TPR) at every distinct score, from (0, 0) to (1, 1); needs both classes."""
    labels, scores = _check(labels, scores)
    if not _two_class(labels):
        raise ValueError("a ROC curve needs both normal and anomalous frames")
    fpr, tpr, _ = binary_roc(_ranked(scores), torch.from_numpy(labels), thresholds=None)
    return fpr.double().numpy(), tpr.double().numpy()


def precision_recall_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, ...]:
    """(precision, recall) at every distinct score, ending at (1, 0); needs an anomaly."""
    labels, scores = _check(labels, scores)
    if labels.max() == 0:
        raise ValueError("a precision-recall curve needs anomalous frames")
    precision, recall, _ = binary_precision_recall_curve(
        _ranked(scores), torch.from_numpy(labels), thresholds=None
    )
    return precision.double().numpy(), recall.double().numpy()


def equal_error_rate(labels: np.ndarray, scores: np.ndarray) -> float:
    """The rate where false positive rate = false negative rate; NaN with one class."""
    labels, scores = _check(labels, scores)
    if not _two_class(labels):
        return float("nan")
    fpr, tpr = roc_curve(labels, scores)
    gap = (1 - tpr) - fpr  # 1 at (0, 0), -1 at (1, 1), non-increasing
    i = int(np.argmax(gap <= 0))
    if gap[i] == 0:
        return float(fpr[i])
    t = gap[i - 1] / (gap[i - 1] - gap[i])
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))


def per_video_metrics(frame: pd.DataFrame, score: str = "score") -> pd.DataFrame:
    """One row per video: frames, anomalous frames, AUC (NaN for one-class videos), padded AUC and
    AP (NaN without anomalies)."""
    rows = []
    for video, group in frame.groupby("video", sort=False):
        labels, values = group["label"].to_numpy(), group[score].to_numpy()
        rows.append(
            {
                "video": video,
                "frames": len(group),
                "anomalous": int(labels.sum()),
                "auc": roc_auc(labels, values),
                "auc_padded": padded_roc_auc(labels, values),
                "ap": average_precision(labels, values),
            }
        )
    return pd.DataFrame(rows)


def evaluate(frame: pd.DataFrame, score: str = "score") -> tuple[dict[str, float], pd.DataFrame]:
    """Pooled and per-video metrics of a scored, labelled frame table (columns video, label, score).

    Returns (summary, per-video table); ``macro_videos`` says how many videos had both classes.
    """
    labels, values = frame["label"].to_numpy(), frame[score].to_numpy()
    videos = per_video_metrics(frame, score)
    two_class = videos["auc"].dropna()
    summary = {
        "micro_auc": roc_auc(labels, values),
        "macro_auc": float(two_class.mean()) if len(two_class) else float("nan"),
        "macro_auc_padded": float(videos["auc_padded"].mean()),
        "ap": average_precision(labels, values),
        "eer": equal_error_rate(labels, values),
        "frames": len(frame),
        "anomalous_frames": int(labels.sum()),
        "videos": len(videos),
        "macro_videos": len(two_class),
    }
    return summary, videos
