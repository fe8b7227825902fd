"""Alignment checks: the scores cover exactly the frames (and labels) the dataset layout reports.

Misaligned ground truth (e.g. scores shifted or shortened by a clip's warm-up) silently changes
every metric; here it is an error that names the video.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vad.errors import ScoreFileError


def _ids(values: np.ndarray, limit: int = 8) -> str:
    values = np.asarray(values)
    more = f" ... ({len(values)} in all)" if len(values) > limit else ""
    return f"{values[:limit].tolist()}{more}"


def check_alignment(scores: pd.DataFrame, table: pd.DataFrame, where: str = "scores") -> None:
    """Raise unless every video of the layout ``table`` (video, frame_ids, labels) has one score
    row per frame id, no other rows exist, and the score labels equal the layout's labels."""
    by_video = {str(v): g for v, g in scores.groupby("video", sort=False)}
    expected = {str(v) for v in table["video"]}
    extra = sorted(set(by_video) - expected)
    if extra:
        raise ScoreFileError(f"{where}: video(s) {extra} are not in the dataset layout")
    for row in table.itertuples(index=False):
        video, ids = str(row.video), np.asarray(row.frame_ids)
        group = by_video.get(video)
        scored = np.sort(group["frame"].to_numpy()) if group is not None else np.zeros(0, int)
        if len(scored) != len(ids) or not np.array_equal(scored, np.sort(ids)):
            missing, unexpected = np.setdiff1d(ids, scored), np.setdiff1d(scored, ids)
            raise ScoreFileError(
                f"{where}: video {video!r} has {len(scored)} scored frames but the layout "
                f"reports {len(ids)} (missing ids {_ids(missing)}, unexpected ids "
                f"{_ids(unexpected)})"
            )
        if isinstance(row.labels, np.ndarray) and group is not None and "label" in group:
            _check_labels(video, group, ids, np.asarray(row.labels), where)


def _check_labels(
    video: str, group: pd.DataFrame, ids: np.ndarray, labels: np.ndarray, where: str
) -> None:
    truth = pd.Series(labels.astype(np.int64), index=ids)
    scored = group.set_index("frame")["label"].astype(np.int64)
    differ = scored.index[scored.to_numpy() != truth.reindex(scored.index).to_numpy()]
    if len(differ):
        raise ScoreFileError(
            f"{where}: video {video!r}: labels of {len(differ)} frames differ from the "
            f"layout's ground truth, e.g. frame ids {_ids(differ.to_numpy())}"
        )
