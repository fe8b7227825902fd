"""From the configured members to the fused, smoothed frame table.

Order: each member's raw column is oriented and normalised with its own method, the members are
fused with their weights, then the fused score is smoothed per video along the frame ids (never
across videos or gaps).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from vad.ensembles.ensemble_options import (
    MEMBER_NORMALIZATIONS,
    EnsembleConfigError,
    EnsembleOptions,
)
from vad.ensembles.fusion import fuse, normalized_weights
from vad.ensembles.members import Member, check_same_frames, labels_of, load_member
from vad.ensembles.normalize import member_score
from vad.ensembles.stats import scoring_settings
from vad.errors import ScoreFileError
from vad.io.scores import resolve_scores_path
from vad.scoring.smoothing import smooth

RESERVED = frozenset({"video", "frame", "score", "label", "filled", "set"})


def load_members(cfg: Mapping[str, Any], options: EnsembleOptions) -> list[Member]:
    """The members whose scores are set, checked to score the same frames.

    ``members`` is a mapping of any names to a run folder / score file, or to
    ``{scores, column, normalization, stats}``; or a list of run folders / score files, named
    by the model that scored them. A member's column defaults to the one its run evaluated
    (``scoring.json`` beside the scores)."""
    members = []
    for name, entry in member_entries(cfg.get("members")).items():
        if name in RESERVED:
            raise EnsembleConfigError(f"members.{name}: {name!r} is a reserved column name")
        method = entry.get("normalization") or options.normalization
        if method not in MEMBER_NORMALIZATIONS:
            raise EnsembleConfigError(
                f"members.{name}.normalization={method!r} is unknown "
                f"(choose from {', '.join(MEMBER_NORMALIZATIONS)})"
            )
        stats = entry.get("stats")
        path = str(entry["scores"])
        column = entry.get("column") or run_column(name, path)
        members.append(load_member(name, path, str(column), method, stats and str(stats)))
    if not members:
        raise ScoreFileError(
            "no ensemble member has a score file: set members=[<run folder>,...] or "
            "+members.<name>=<scores.csv or predict run folder>"
        )
    check_same_frames(members)
    return members


def member_entries(members: Any) -> dict[str, dict[str, Any]]:
    """``name -> {scores, column, normalization, stats}`` of the members in use."""
    if members is None:
        return {}
    if OmegaConf.is_config(members):
        members = OmegaConf.to_container(members, resolve=True)
    if isinstance(members, (list, tuple)):
        named: dict[str, Any] = {}
        for path in members:
            base = run_model(str(path))
            name, n = base, 2
            while name in named:
                name, n = f"{base}_{n}", n + 1
            named[name] = path
        members = named
    if not isinstance(members, Mapping):
        raise EnsembleConfigError(f"members={members!r}: a list of runs or a mapping of names")
    entries = {}
    for name, entry in members.items():
        entry = {"scores": entry} if isinstance(entry, (str, Path)) else dict(entry or {})
        if entry.get("scores") not in (None, ""):
            entries[str(name)] = entry
    return entries


def _run_settings(path: str) -> dict[str, Any]:
    """The scoring settings the run of ``path`` recorded (``scoring.json``), or none."""
    folder = resolve_scores_path(path).parent
    return scoring_settings(folder)


def run_model(path: str) -> str:
    """The model that scored ``path`` (its run's ``scoring.json``), else the run folder's name."""
    model = _run_settings(path).get("model")
    return str(model) if model else resolve_scores_path(path).parent.name


def run_column(name: str, path: str) -> str:
    """The score column the run of ``path`` evaluated; an error naming the member without it."""
    column = _run_settings(path).get("column")
    if not column:
        raise EnsembleConfigError(
            f"members.{name}: {path} does not record its score column (no scoring.json with "
            f"'column' beside it); set members.{name}.column=<column>"
        )
    return str(column)


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
