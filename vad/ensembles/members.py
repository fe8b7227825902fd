"""Ensemble members: their score files (read and validated once per process) and the check that
they score exactly the same frames.

A Hydra multirun runs its jobs in one process, so the cache below means a sweep reads, validates
and cross-checks every score file once, whatever the number of jobs. A file is read again only when
its modification time or size changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vad.errors import ScoreFileError
from vad.io.scores import KEY, read_scores, resolve_scores_path, validate_scores

FileKey = tuple[str, int, int]

_FILES: dict[FileKey, pd.DataFrame] = {}
_COLUMNS: set[tuple[FileKey, str]] = set()
_SAME_FRAMES: set[tuple[FileKey, ...]] = set()


@dataclass
class Member:
    """One model's scores: ``column`` of the score file at ``path``, normalised with
    ``normalization``; ``stats`` optionally names where its training statistics are."""

    name: str
    path: Path
    column: str
    normalization: str
    scores: pd.DataFrame = field(repr=False)
    key: FileKey
    stats: str | None = None


def file_key(path: Path) -> FileKey:
    stat = path.stat()
    return (str(path.resolve()), stat.st_mtime_ns, stat.st_size)


def load_member(
    name: str, path: str | Path, column: str, normalization: str, stats: str | None = None
) -> Member:
    """The member's score file, read and validated (``column`` finite everywhere) once."""
    resolved = resolve_scores_path(path)
    key = file_key(resolved)
    if key not in _FILES:
        _FILES[key] = read_scores(resolved)
    scores = _FILES[key]
    if (key, column) not in _COLUMNS:
        try:
            validate_scores(scores, resolved, [column])
        except ScoreFileError as exc:
            raise ScoreFileError(f"member {name!r}: {exc}") from exc
        _COLUMNS.add((key, column))
    return Member(name, resolved, column, normalization, scores, key, stats)


def clear_cache() -> None:
    """Forget every score file read so far."""
    _FILES.clear()
    _COLUMNS.clear()
    _SAME_FRAMES.clear()


def check_same_frames(members: list[Member]) -> None:
    """Every member must score exactly the (video, frame) pairs of the first; never drop rows."""
    keys = tuple(m.key for m in members)
    if keys in _SAME_FRAMES:
        return
    reference = members[0]
    ref_keys = _keys(reference.scores)
    for member in members[1:]:
        if member.key == reference.key:
            continue
        own = _keys(member.scores)
        if own.equals(ref_keys):
            continue
        missing, extra = ref_keys.difference(own), own.difference(ref_keys)
        problem = []
        for label, index in (("lacks", missing), ("has extra", extra)):
            if len(index):
                video = index[0][0]
                frames = [int(f) for v, f in index if v == video][:8]
                problem.append(f"{label} {len(index)} frames, e.g. video {video!r} frames {frames}")
        raise ScoreFileError(
            f"member {member.name!r} ({member.path}) does not score the same "
            f"frames as {reference.name!r} ({reference.path}): " + "; ".join(problem)
        )
    labels_of(members)
    _SAME_FRAMES.add(keys)


def labels_of(members: list[Member]) -> np.ndarray | None:
    """Frame labels from the first member that has them (all that have them must agree)."""
    found = [m for m in members if "label" in m.scores.columns]
    if not found:
        return None
    reference = found[0].scores["label"].to_numpy()
    for member in found[1:]:
        differ = np.flatnonzero(member.scores["label"].to_numpy() != reference)
        if len(differ):
            row = found[0].scores.iloc[differ[0]]
            raise ScoreFileError(
                f"members {found[0].name!r} and {member.name!r} disagree on the labels of "
                f"{len(differ)} frames, e.g. video {row['video']!r} frame {int(row['frame'])}"
            )
    return reference


def _keys(scores: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(scores[KEY])
