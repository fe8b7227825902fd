"""From the configured members to the fused, smoothed frame table.

Order: each member's raw column is oriented and normalised with its own method, the members are
fused with their weights, then the fused score is smoothed per video along the frame ids (never
across videos or gaps).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from vad.ensembles.fusion import fuse, normalized_weights
from vad.ensembles.members import Member, check_same_frames, labels_of, load_member
from vad.ensembles.normalize import member_score
from vad.ensembles.options import MEMBER_NORMALIZATIONS, EnsembleConfigError, EnsembleOptions
from vad.errors import ScoreFileError
from vad.scoring.smoothing import smooth

RESERVED = frozenset({"video", "frame", "score", "label", "filled", "set"})


def load_members(cfg: Mapping[str, Any], options: EnsembleOptions) -> list[Member]:
    """The members whose ``scores`` is set, checked to score the same frames."""
    members = []
    for name, entry in (cfg.get("members") or {}).items():
        if not entry or entry.get("scores") in (None, ""):
            continue
        name = str(name)
        if name in RESERVED:
            raise EnsembleConfigError(f"members.{name}: {name!r} is a reserved column name")
        method = entry.get("normalization") or options.normalization
        if method not in MEMBER_NORMALIZATIONS:
            raise EnsembleConfigError(
                f"members.{name}.normalization={method!r} is unknown "
                f"(choose from {', '.join(MEMBER_NORMALIZATIONS)})"
            )
        stats = entry.get("stats")
        members.append(
            load_member(
                name,
                str(entry.scores),
                str(entry.get("column") or "psnr"),
                method,
                stats and str(stats),
            )
        )
    if not members:
        raise ScoreFileError(
            "no ensemble member has a score file: set members.<name>.scores="
            "<scores.csv or predict run folder>"
        )
    check_same_frames(members)
    return members


def member_weights(cfg: Mapping[str, Any], members: list[Member]) -> dict[str, float]:
    """``weights.<name>`` of each member (1.0 when not given), normalised to sum to 1."""
    weights = cfg.get("weights") or {}
    raw = {}
    for m in members:
        value = weights.get(m.name, 1.0)
        try:
            raw[m.name] = float(value)
        except (TypeError, ValueError) as exc:
            raise EnsembleConfigError(f"weights.{m.name}={value!r} is not a number") from exc
    return normalized_weights(raw)


def fused_frame(
    members: list[Member], weights: Mapping[str, float], options: EnsembleOptions
) -> pd.DataFrame:
    """``video, frame, <member>..., score[, label]``: normalised member scores and the fused,
    smoothed score."""
    base = members[0].scores
    frame = base[["video", "frame"]].copy()
    columns = {m.name: member_score(m, options.train_range) for m in members}
    for name, values in columns.items():
        frame[name] = values
    fused = fuse(columns, weights, options.fusion)
    frame["score"] = smoothed(frame, fused, options)
    labels = labels_of(members)
    if labels is not None:
        frame["label"] = labels.astype(np.int64)
    return frame


def smoothed(frame: pd.DataFrame, values: np.ndarray, options: EnsembleOptions) -> np.ndarray:
    """``values`` (one per row of ``frame``) smoothed per video along the frame ids."""
    series = pd.Series(values, index=frame.index)
    return smooth(series, frame["video"], frame["frame"], options.sigma, options.median).to_numpy()
