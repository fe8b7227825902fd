"""The submission file: ``Id,Predicted`` with ``Id = f"{int(video)}_{int(frame)}"``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from vad.io.atomic import write_csv
from vad.io.scores import sort_scores


def submission_id(video: str, frame: int) -> str:
    """``("01", 939)`` -> ``"1_939"``; non-numeric video ids are kept as they are."""
    return f"{int(video) if str(video).isdigit() else video}_{int(frame)}"


def write_submission(scores: pd.DataFrame, column: str, path: str | Path) -> Path:
    """Rows sorted by video then frame."""
    ordered = sort_scores(scores)
    ids = [submission_id(v, f) for v, f in zip(ordered["video"], ordered["frame"], strict=True)]
    return write_csv(
        pd.DataFrame({"Id": ids, "Predicted": ordered[column].to_numpy()}),
        path,
        float_format="%.9g",
    )
