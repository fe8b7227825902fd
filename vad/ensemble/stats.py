"""Training statistics of a member's model, for the ``train_zscore`` / ``train_minmax``
normalisations (see ``vad.scoring.train_stats``).

Where they are looked for, in order:

1. ``members.<name>.stats``: a ``score_stats.json``, a checkpoint or a training run folder;
2. ``score_stats.json`` beside the member's ``scores.csv`` (written when the statistics were
   fitted in that run: after training, or by ``predict.py`` when it fitted them);
3. the checkpoint of the scores' run folder (a training run: ``checkpoints/best.ckpt``);
4. the checkpoint named by the run's ``ckpt_path`` (a predict run: ``.hydra/config.yaml``).

The statistics must come from the same clip aggregation as the scores when the run says which.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from vad.ensemble.members import Member
from vad.errors import CheckpointError, ScoreFileError, VADError
from vad.scoring.train_stats import column_stats

STATS_FILE = "score_stats.json"
_LOADED: dict[tuple[str, str], dict[str, Any]] = {}


def member_stats(member: Member) -> dict[str, Any]:
    """The training statistics of ``member`` (cached); a clear error naming it when none exist."""
    cache_key = (str(member.path), member.stats or "")
    if cache_key not in _LOADED:
        stats, source = _find(member)
        try:
            column_stats(stats, member.column)
        except CheckpointError as exc:
            raise CheckpointError(f"member {member.name!r} ({source}): {exc}") from exc
        _check_aggregate(member, stats, source)
        _LOADED[cache_key] = stats
    return _LOADED[cache_key]


def clear_stats_cache() -> None:
    _LOADED.clear()


def _find(member: Member) -> tuple[dict[str, Any], str]:
    from vad.models.checkpoint import STATS_KEY, read_checkpoint  # lightning: imported when needed

    if member.stats:
        return _read(member, Path(member.stats).expanduser()), member.stats
    run = member.path.parent
    beside = run / STATS_FILE
    if beside.is_file():
        return _read(member, beside), str(beside)
    for candidate in _checkpoints(run):
        stats = read_checkpoint(candidate)["vad"].get(STATS_KEY)
        if stats:
            return stats, str(candidate)
    raise ScoreFileError(
        f"member {member.name!r}: normalization={member.normalization} needs the training "
        f"statistics of its model, but none were found for {member.path} (no {STATS_FILE} beside "
        f"it, no checkpoint with stored statistics in its run folder or its run's ckpt_path); "
        f"give members.{member.name}.stats=<{STATS_FILE}, checkpoint or training run folder> "
        "or choose a per-video normalisation"
    )


def _read(member: Member, path: Path) -> dict[str, Any]:
    """Statistics from a JSON file, a checkpoint or a training run folder."""
    from vad.models.checkpoint import STATS_KEY, read_checkpoint, resolve_checkpoint

    try:
        if path.suffix == ".json":
            return json.loads(path.read_text())
        stats = read_checkpoint(resolve_checkpoint(path))["vad"].get(STATS_KEY)
    except (OSError, ValueError) as exc:
        raise ScoreFileError(
            f"member {member.name!r}: cannot read statistics {path}: {exc}"
        ) from exc
    if not stats:
        raise CheckpointError(f"member {member.name!r}: {path} stores no training statistics")
    return stats


def _checkpoints(run: Path) -> list[Path]:
    """The run folder's own checkpoint, then the checkpoint its config names."""
    from vad.models.checkpoint import resolve_checkpoint

    candidates = [run]
    ckpt = _run_config(run).get("ckpt_path")
    if ckpt:
        path = Path(str(ckpt)).expanduser()
        candidates.append(path if path.is_absolute() else Path(_run_cwd(run)) / path)
    found = []
    for candidate in candidates:
        with contextlib.suppress(VADError):
            found.append(resolve_checkpoint(candidate))
    return found


def _run_config(run: Path) -> dict[str, Any]:
    for name in (".hydra/config.yaml", "config_tree.yaml"):
        if (run / name).is_file():
            return OmegaConf.to_container(OmegaConf.load(run / name), resolve=False)
    return {}


def _run_cwd(run: Path) -> str:
    path = run / ".hydra" / "hydra.yaml"
    if path.is_file():
        cwd = OmegaConf.load(path).hydra.runtime.get("cwd")
        if cwd:
            return str(cwd)
    return "."


def _check_aggregate(member: Member, stats: dict[str, Any], source: str) -> None:
    scoring = _run_config(member.path.parent).get("scoring") or {}
    used, fitted = scoring.get("aggregate"), stats.get("aggregate")
    if used and fitted and used != fitted:
        raise CheckpointError(
            f"member {member.name!r}: its scores were aggregated with {used!r} but the training "
            f"statistics ({source}) with {fitted!r}"
        )
