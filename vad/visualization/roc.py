"""Pooled ROC and precision-recall curves of a frame table, with AUC / AP in the legend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vad.scoring.metrics import (
    average_precision,
    equal_error_rate,
    precision_recall_curve,
    roc_auc,
    roc_curve,
)
from vad.visualization.figures import new_figure, save_png


def _two_class(frame: pd.DataFrame) -> bool:
    return frame["label"].nunique() == 2


def write_roc(frame: pd.DataFrame, path: str | Path, label: str = "score") -> Path | None:
    """ROC curve over all frames pooled, the EER point marked; None with one class only."""
    if not _two_class(frame):
        return None
    labels, scores = frame["label"].to_numpy(), frame["score"].to_numpy()
    fpr, tpr = roc_curve(labels, scores)
    auc, eer = roc_auc(labels, scores), equal_error_rate(labels, scores)
    figure = new_figure(4.2, 4.0)
    ax = figure.add_subplot()
    ax.plot(fpr, tpr, color="tab:blue", lw=1.5, label=f"{label}: micro AUC = {auc:.4f}")
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls="--", label="chance")
    ax.plot([eer], [1 - eer], "o", color="tab:red", ms=4, label=f"EER = {eer:.4f}")
    _finish(ax, "false positive rate", "true positive rate", "ROC (frames pooled)", "lower right")
    return save_png(figure, path)


def write_pr(frame: pd.DataFrame, path: str | Path, label: str = "score") -> Path | None:
    """Precision-recall curve over all frames pooled; None without anomalous frames."""
    labels, scores = frame["label"].to_numpy(), frame["score"].to_numpy()
    if labels.max() == 0:
        return None
    precision, recall = precision_recall_curve(labels, scores)
    ap = average_precision(labels, scores)
    figure = new_figure(4.2, 4.0)
    ax = figure.add_subplot()
    ax.step(
        recall, precision, where="post", color="tab:blue", lw=1.5, label=f"{label}: AP = {ap:.4f}"
    )
    rate = float(np.mean(labels))
    ax.axhline(rate, color="0.6", lw=0.8, ls="--", label=f"chance = {rate:.3f}")
    _finish(ax, "recall", "precision", "Precision-recall (frames pooled)", "lower left")
    return save_png(figure, path)


def _finish(ax, xlabel: str, ylabel: str, title: str, legend: str) -> None:
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.set_title(title, fontsize=10)
    ax.legend(loc=legend, fontsize=8)
    ax.grid(alpha=0.3)
