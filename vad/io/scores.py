"""Score files: one row per (video, frame) with the frame's original id.

``scores.csv`` columns: ``video`` (string id), ``frame`` (original frame id), raw error columns
(``mse``, ``psnr``, ``patch_max``, ...), ``filled`` (1 when the frame had no full clip and took the
score of the nearest scored frame), ``label`` when ground truth is known, and any per-frame notes
from preprocessing stages.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vad.errors import ScoreFileError
from vad.io.atomic import write_csv
from vad.utils.sorting import natural_key

KEY = ["video", "frame"]
SCORES_FILE = "scores.csv"
#: beside a run's scores: the training statistics its model has for them (``vad.models.fitted``)
STATS_FILE = "score_stats.json"
#: beside a run's scores: their clip aggregation and patch size
SCORING_FILE = "scoring.json"


def resolve_scores_path(path: str | Path) -> Path:
    """A score file, or a run folder that holds ``scores.csv``."""
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / SCORES_FILE
    if not path.is_file():
        raise ScoreFileError(f"{path}: score file not found")
    return path


def read_scores(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read and validate a score file; ``columns`` must exist and hold finite numbers."""
    path = resolve_scores_path(path)
    try:
        scores = pd.read_csv(path, dtype={"video": str})
    except Exception as exc:
        raise ScoreFileError(f"{path}: cannot read score file ({exc})") from exc
    validate_scores(scores, path, columns or [])
    return sort_scores(scores)


def validate_scores(scores: pd.DataFrame, where: str | Path, columns: list[str]) -> None:
    missing = [c for c in [*KEY, *columns] if c not in scores.columns]
    if missing:
        raise ScoreFileError(f"{where}: missing column(s) {missing} (has {list(scores.columns)})")
    if not pd.api.types.is_integer_dtype(scores["frame"]):
        raise ScoreFileError(f"{where}: column 'frame' must hold integer frame ids")
    dup = scores[scores.duplicated(KEY, keep=False)]
    if not dup.empty:
        first = dup.iloc[0]
        raise ScoreFileError(
            f"{where}: {len(dup)} rows share a (video, frame) id, e.g. video "
            f"{first['video']!r} frame {int(first['frame'])}"
        )
    for column in columns:
        values = pd.to_numeric(scores[column], errors="coerce")
        bad = scores[~np.isfinite(values.to_numpy(dtype=float))]
        if not bad.empty:
            first = bad.iloc[0]
            raise ScoreFileError(
                f"{where}: column {column!r} has {len(bad)} missing, NaN or "
                f"infinite values, e.g. video {first['video']!r} frame "
                f"{int(first['frame'])}"
            )


def sort_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Rows ordered by video (natural order) then frame id."""
    order = sorted(scores["video"].unique(), key=natural_key)
    rank = pd.Series(range(len(order)), index=order)
    key = scores["video"].map(rank)
    return (
        scores.assign(_v=key)
        .sort_values(["_v", "frame"], kind="stable")
        .drop(columns="_v")
        .reset_index(drop=True)
    )


def write_scores(scores: pd.DataFrame, path: str | Path) -> Path:
    return write_csv(sort_scores(scores), path, float_format="%.9g")
