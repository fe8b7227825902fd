"""Expected errors (bad data, config, checkpoint or score files) as one short message."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from vad.errors import CheckpointError, DataError, ScoreFileError, TrainingError, VADError

HINTS = {
    DataError: "check the file or data.* setting named above",
    CheckpointError: "ckpt_path takes a training run folder or a .ckpt file written by train.py",
    ScoreFileError: "score files are the scores.csv that predict.py and train.py write",
    TrainingError: "see the run folder's train.log",
}


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a ``VADError`` into ``error: <message>`` and a hint on stderr and exit status 1,
    without a traceback (``HYDRA_FULL_ERROR=1`` lets it through with its traceback)."""
    try:
        yield
    except VADError as exc:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        hint = next((h for kind, h in HINTS.items() if isinstance(exc, kind)), None)
        lines = [f"error: {exc}"]
        if hint:
            lines.append(f"hint: {hint}")
        lines.append("(HYDRA_FULL_ERROR=1 shows the traceback)")
        print("\n".join(lines), file=sys.stderr, flush=True)
        raise SystemExit(1) from None
