"""Loading ensemble members' score files and checking that they score the same frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vad.errors import ScoreFileError
from vad.io.scores import KEY, read_scores, resolve_scores_path


@dataclass
class Member:
    """One model's scores: ``column`` of the score file at ``path``, with its weight."""

    name: str
    path: str
    column: str
    weight: float
    normalization: str
    scores: pd.DataFrame


def load_member(name: str, path: str, column: str, weight: float, normalization: str) -> Member:
    scores = read_scores(path, [column])
    return Member(
        name, str(resolve_scores_path(path)), column, float(weight), normalization, scores
    )


def check_same_frames(members: list[Member]) -> None:
    """Every member must score exactly the (video, frame) pairs of the first; never drop rows."""
    reference = members[0]
    ref_keys = _keys(reference.scores)
    for member in members[1:]:
        keys = _keys(member.scores)
        if keys.equals(ref_keys):
            continue
        missing, extra = ref_keys.difference(keys), keys.difference(ref_keys)
        problem = []
        for label, index in (("lacks", missing), ("has extra", extra)):
            if len(index):
                video = index[0][0]
                frames = [f for v, f in index if v == video][:8]
                problem.append(f"{label} {len(index)} frames, e.g. video {video!r} frames {frames}")
        raise ScoreFileError(
            f"member {member.name!r} ({member.path}) does not score the same "
            f"frames as {reference.name!r} ({reference.path}): " + "; ".join(problem)
        )


def labels_of(members: list[Member]) -> np.ndarray | None:
    """Frame labels from the first member that has them (all must agree)."""
    found = [m for m in members if "label" in m.scores.columns]
    if not found:
        return None
    reference = found[0].scores["label"].to_numpy()
    for member in found[1:]:
        if not np.array_equal(member.scores["label"].to_numpy(), reference):
            raise ScoreFileError(
                f"members {found[0].name!r} and {member.name!r} disagree on labels"
            )
    return reference


def _keys(scores: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(scores[KEY])
