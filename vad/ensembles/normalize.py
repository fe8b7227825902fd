"""Each member's anomaly score (higher = more anomalous), normalised with its own method.

Methods: those of ``vad.scoring.normalization`` (``none``, per-video ``minmax`` / ``zscore``,
``global_minmax``, ``train_zscore`` / ``train_minmax``) plus

    rank   per video: the frame's rank among the video's frames, scaled to [0, 1]
           ((rank - 1) / (n - 1), ties share their average rank; a constant video maps to 0.5).
           Only the order inside each video counts, so one member's outliers cannot dominate.

Results are cached per (score file, column, method), so a sweep normalises each member once.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from vad.ensembles.members import Member
from vad.ensembles.stats import member_stats
from vad.scoring.frame_scores import anomaly_score
from vad.scoring.groups import video_groups
from vad.scoring.options import TRAIN
from vad.scoring.pipeline import anomaly_scores

_NORMALIZED: dict[tuple, np.ndarray] = {}


def scaled_rank(values: np.ndarray) -> np.ndarray:
    """Average ranks scaled to [0, 1]; all-equal (or single) values map to 0.5."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return np.full(len(values), 0.5)
    return (rankdata(values, method="average") - 1) / (len(values) - 1)


def per_video_rank(values: np.ndarray, videos: np.ndarray) -> np.ndarray:
    """``scaled_rank`` within each video."""
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    for positions in video_groups(videos):
        out[positions] = scaled_rank(values[positions])
    return out


def member_score(member: Member, train_range: tuple[float, float] = (0.0, 0.999)) -> np.ndarray:
    """The member's normalised anomaly score, one value per row of its score table."""
    key = (member.key, member.column, member.normalization, member.stats, train_range)
    if key not in _NORMALIZED:
        _NORMALIZED[key] = _normalize(member, train_range)
    return _NORMALIZED[key]


def clear_normalized_cache() -> None:
    _NORMALIZED.clear()


def _normalize(member: Member, train_range: tuple[float, float]) -> np.ndarray:
    scores = member.scores
    if member.normalization == "rank":
        oriented = anomaly_score(scores, member.column).to_numpy(dtype=np.float64)
        return per_video_rank(oriented, scores["video"].to_numpy())
    stats = member_stats(member) if member.normalization in TRAIN else None
    values = anomaly_scores(
        scores, member.column, member.normalization, stats=stats, train_range=train_range
    )
    return values.to_numpy(dtype=np.float64)
