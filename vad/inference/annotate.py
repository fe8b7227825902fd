"""Annotated copies of streamed videos: frames leave the scoring window with their mean error map
and are drawn with their online score (``vad.visualization.overlay``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vad.inference.alarm import AlarmScore
from vad.inference.engine import WindowFrame
from vad.visualization.overlay import AnnotatedVideoWriter, ScoreRange, annotate_frame


class StreamAnnotator:
    """Writes the source frames among those that left the window to ``path`` (None: nothing is
    written). ``finalize`` derives a model's columns from aggregated rows (``finalize_scores``);
    ``heat_scale`` is the squared error shown at full heat (None: the largest seen so far)."""

    def __init__(
        self,
        path: Path | None,
        fps: float,
        alarm: AlarmScore,
        finalize: Callable[[pd.DataFrame], pd.DataFrame],
        alpha: float = 0.6,
        heat_scale: float | None = None,
    ) -> None:
        self.alarm, self.finalize, self.alpha, self.fixed_scale = alarm, finalize, alpha, heat_scale
        self.source_ids: set[int] = set()  # filled as frames are decoded
        self.range = ScoreRange(alarm.threshold, alarm.low)
        self.heat_max = heat_scale or 0.0
        self.writer = AnnotatedVideoWriter(path, fps) if path is not None else None

    def __enter__(self) -> StreamAnnotator:
        (self.writer or nullcontext()).__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.writer is not None:
            self.writer.__exit__(*exc)

    def write(self, frames: list[WindowFrame], chunk: pd.DataFrame | None) -> None:
        """Draw ``frames``; ``chunk`` holds the aggregated rows of the scored ones."""
        frames = [f for f in frames if f.id in self.source_ids]
        if self.writer is None or not frames:
            return
        scores = self._online_scores(chunk)
        for frame in frames:
            score = scores.get(frame.id)
            if score is not None:
                self.range.add(score)
            error = frame.error
            if error is not None and not self.fixed_scale:
                self.heat_max = max(self.heat_max, heat_reference(error))
            image = annotate_frame(frame.image, error, score, self.range, self.heat_max, self.alpha)
            self.writer.write(image)

    def _online_scores(self, chunk: pd.DataFrame | None) -> dict[int, float]:
        if chunk is None:
            return {}
        # the model's finalisation on this chunk alone: for a model whose finalisation uses
        # per-video statistics (STAE estimates a missing branch from the video's branch ratio)
        # the bar may differ slightly from scores.csv, which is finalised on the whole video
        chunk = self.finalize(chunk)
        values = self.alarm.scores(chunk)
        return dict(zip(chunk["frame"].tolist(), values.tolist(), strict=True))


#: quantile of a frame's squared-error map that sets the full-heat colour (a frame's single
#: worst pixel would make every other error invisible)
HEAT_QUANTILE = 0.995


def heat_reference(error: np.ndarray) -> float:
    """The error shown at full heat for one frame: a high quantile of its error map."""
    return float(np.quantile(error, HEAT_QUANTILE))
