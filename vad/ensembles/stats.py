"""Training statistics of a member's model, for the ``train_zscore`` / ``train_minmax``
normalisations (see ``vad.scoring.train_stats``).

The ensemble asks the member's run for them, in order:

1. ``members.<name>.stats``: a ``score_stats.json``, a checkpoint or a training run folder;
2. ``score_stats.json`` beside the member's ``scores.csv`` (every scoring run writes it when its
   model has statistics of the same clip aggregation and patch size);
3. the checkpoint of the scores' run folder (a training run: ``checkpoints/best.ckpt``).

When the run wrote ``scoring.json`` (its aggregation and patch size), the statistics must match
it (``vad.scoring.train_stats.check_stats_compatible``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vad.ensembles.members import Member
from vad.errors import CheckpointError, ScoreFileError, VADError
from vad.io.scores import SCORING_FILE, STATS_FILE
from vad.scoring.train_stats import check_stats_compatible

_LOADED: dict[tuple[str, str], dict[str, Any]] = {}


def member_stats(member: Member) -> dict[str, Any]:
    """The training statistics of ``member`` (cached); a clear error naming it when none exist."""
    cache_key = (str(member.path), member.stats or "")
    if cache_key not in _LOADED:
        stats, source = _find(member)
        settings = scoring_settings(member.path.parent)
        try:
            check_stats_compatible(
                stats,
                member.column,
                settings.get("aggregate"),
                settings.get("patch_size"),
                f"the training statistics ({source})",
            )
        except CheckpointError as exc:
            raise CheckpointError(f"member {member.name!r}: {exc}") from exc
        _LOADED[cache_key] = stats
    return _LOADED[cache_key]


def clear_stats_cache() -> None:
    _LOADED.clear()


def _find(member: Member) -> tuple[dict[str, Any], str]:
    candidates = [Path(member.stats).expanduser()] if member.stats else []
    candidates += [member.path.parent / STATS_FILE, member.path.parent]
    for candidate in candidates:
        explicit = bool(member.stats) and candidate == candidates[0]
        if not explicit and not _may_hold_stats(candidate):
            continue
        stats = _read(member, candidate)
        if stats:
            return stats, str(candidate)
        if explicit:
            raise CheckpointError(
                f"member {member.name!r}: {candidate} stores no training statistics"
            )
    raise ScoreFileError(
        f"member {member.name!r}: normalization={member.normalization} needs the training "
        f"statistics of its model, but none were found for {member.path} (no {STATS_FILE} beside "
        f"it, no checkpoint with stored statistics in its run folder); give "
        f"members.{member.name}.stats=<{STATS_FILE}, checkpoint or training run folder> "
        "or choose a per-video normalisation"
    )


def _may_hold_stats(path: Path) -> bool:
    """A statistics file, or a run folder with a checkpoint."""
    if path.is_file():
        return True
    return any(
        (path / name).is_file() for name in ("checkpoints/best.ckpt", "checkpoints/last.ckpt")
    )


def _read(member: Member, path: Path) -> dict[str, Any] | None:
    from vad.models.checkpoint import read_score_stats  # lightning: imported when needed

    try:
        return read_score_stats(path)
    except VADError as exc:
        raise ScoreFileError(f"member {member.name!r}: {exc}") from exc


def scoring_settings(run: Path) -> dict[str, Any]:
    """The clip aggregation and patch size the run's scores were computed with (empty when the
    run did not record them)."""
    path = run / SCORING_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ScoreFileError(f"{path}: cannot read the run's scoring settings ({exc})") from exc
