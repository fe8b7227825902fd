"""Frame-level metrics with exact thresholds (torchmetrics).

    micro_auc   ROC AUC over all frames of all videos pooled (the number most papers report)
    macro_auc   mean of per-video ROC AUCs over the videos with both normal and anomalous frames
    ap          average precision over all frames pooled (anomaly = positive class)

Scores are rank-transformed before they reach torchmetrics: both metrics depend only on the order
of the scores, and ranks avoid torchmetrics' automatic sigmoid on values outside [0, 1], which
would merge distinct large scores into ties.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.stats import rankdata
from torchmetrics.functional.classification import binary_auroc, binary_average_precision


def _ranked(scores: np.ndarray) -> torch.Tensor:
    ranks = rankdata(np.asarray(scores, dtype=np.float64), method="dense")
    return torch.from_numpy(ranks / ranks.max())


def _check(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels, scores = np.asarray(labels).astype(np.int64).ravel(), np.asarray(scores).ravel()
    if labels.shape != scores.shape:
        raise ValueError(f"{len(labels)} labels but {len(scores)} scores")
    if not np.isfinite(scores).all():
        raise ValueError("scores contain NaN or infinite values")
    return labels, scores


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC; NaN when only one class is present."""
    labels, scores = _check(labels, scores)
    if labels.min() == labels.max():
        return float("nan")
    return float(binary_auroc(_ranked(scores), torch.from_numpy(labels), thresholds=None))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Average precision with anomalies as positives; NaN when there is no anomaly."""
    labels, scores = _check(labels, scores)
    if labels.max() == 0:
        return float("nan")
    return float(
        binary_average_precision(_ranked(scores), torch.from_numpy(labels), thresholds=None)
    )


def per_video_metrics(frame: pd.DataFrame, score: str = "score") -> pd.DataFrame:
    """One row per video: frames, anomalous frames, AUC (NaN for one-class videos) and AP."""
    rows = []
    for video, group in frame.groupby("video", sort=False):
        labels, values = group["label"].to_numpy(), group[score].to_numpy()
        rows.append(
            {
                "video": video,
                "frames": len(group),
                "anomalous": int(labels.sum()),
                "auc": roc_auc(labels, values),
                "ap": average_precision(labels, values),
            }
        )
    return pd.DataFrame(rows)


def evaluate(frame: pd.DataFrame, score: str = "score") -> tuple[dict[str, float], pd.DataFrame]:
    """Pooled and per-video metrics of a scored, labelled frame table (columns video, label, score).

    Returns (summary, per-video table); ``macro_auc`` averages the two-class videos only and
    ``macro_videos`` says how many there were.
    """
    labels, values = frame["label"].to_numpy(), frame[score].to_numpy()
    videos = per_video_metrics(frame, score)
    two_class = videos["auc"].dropna()
    summary = {
        "micro_auc": roc_auc(labels, values),
        "macro_auc": float(two_class.mean()) if len(two_class) else float("nan"),
        "ap": average_precision(labels, values),
        "frames": len(frame),
        "anomalous_frames": int(labels.sum()),
        "videos": len(videos),
        "macro_videos": len(two_class),
    }
    return summary, videos
