"""Score one video as a stream: frames are read, scored and released in a bounded window.

Frames arrive one at a time (after the preprocessing stages, resized to the model's input size).
``StreamModalities`` computes the arrays the model reads (flow, motion boxes) as they arrive;
``ClipCutter`` cuts clips of consecutive frame ids by the data layer's clip rules;
``StreamScorer`` scores batches of them with the one scorer (``vad.scoring.scorer``). A frame is
*complete* once no later clip can cover it: its rows are then aggregated (mean or max over the
clips that scored it) and it leaves the window with the mean of its error maps. The window
holds about ``batch_size + clip_length`` frames (one more when the model reads motion boxes: a
frame's boxes wait for the next frame), whatever the length of the video. The aggregated rows
are kept as compact columns (``RowStore``), not one DataFrame per batch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vad.data.cache import CachedVideo
from vad.inference.clip_cutter import Clip, ClipCutter
from vad.inference.row_store import RowStore
from vad.inference.stage_clock import StageClock
from vad.inference.stream_modalities import StreamModalities
from vad.scoring.assemble import assemble_scores
from vad.scoring.scorer import Scorer, frame_maps

if TYPE_CHECKING:  # or an exported model (vad.deploy.runtime.OnnxModel)
    from vad.models.base import VADModule


@dataclass
class WindowFrame:
    """A frame in the window: its id, stream position, the image shown and its error maps."""

    id: int
    position: int
    image: np.ndarray
    error_sum: np.ndarray | None = None
    error_count: int = 0

    def add_error(self, error: np.ndarray) -> None:
        self.error_sum = error if self.error_sum is None else self.error_sum + error
        self.error_count += 1

    @property
    def error(self) -> np.ndarray | None:
        return None if self.error_sum is None else self.error_sum / self.error_count


class StreamScorer:
    """Scores one video's frames as they arrive; ``push`` and ``finish`` return the frames that
    left the window, ``rows`` holds the aggregated rows (one per scored frame) so far."""

    def __init__(
        self,
        model: VADModule,
        video: str,
        batch_size: int,
        stride: int = 1,
        aggregate: str = "mean",
        flow: Mapping[str, Any] | None = None,
        regions: Mapping[str, Any] | None = None,
        clock: StageClock | None = None,
    ) -> None:
        self.model, self.video, self.batch_size = model, video, max(1, int(batch_size))
        #: seconds of ``flow_boxes`` (the stream's modalities), ``network`` and ``rows``
        self.clock = clock or StageClock()
        self.aggregate = aggregate
        self.scorer = Scorer(model, aggregate)
        self.cutter = ClipCutter(int(model.clip_length), stride)
        self.modalities = StreamModalities(model.modalities, flow, regions)
        self.window: deque[WindowFrame] = deque()
        self.pushed = 0
        self.pending: list[Clip] = []
        self.raw: list[pd.DataFrame] = []
        self.rows = RowStore(video)
        self.last_chunk: pd.DataFrame | None = None

    def push(
        self,
        frame_id: int,
        frame: np.ndarray,
        shown: np.ndarray,
        native: np.ndarray | None = None,
    ) -> list[WindowFrame]:
        """Add a frame (``frame``: model input size, ``shown``: the image to annotate,
        ``native``: the source's frame, for motion boxes at native resolution)."""
        self.window.append(WindowFrame(frame_id, self.pushed, shown))
        self.pushed += 1
        with self.clock.stage("flow_boxes"):
            ready = list(self.modalities.push(frame_id, frame, native))
        for ready_id, arrays in ready:
            self.pending += self.cutter.push(ready_id, arrays)
        if len(self.pending) >= self.batch_size:
            self._score_pending()
        return self._release(min([c.start for c in self.pending], default=np.inf))

    def finish(self) -> list[WindowFrame]:
        with self.clock.stage("flow_boxes"):
            ready = list(self.modalities.end_run())
        for ready_id, arrays in ready:
            self.pending += self.cutter.push(ready_id, arrays)
        self.pending += self.cutter.end_run()
        self._score_pending()
        return self._release(np.inf)

    def _score_pending(self) -> None:
        if not self.pending:
            return
        clips, self.pending = self.pending, []
        arrays = {name: np.stack([c.arrays[name] for c in clips]) for name in clips[0].arrays}
        ids = np.stack([c.ids for c in clips])
        with self.clock.stage("network"):
            out = self.scorer.run(self.scorer.clip_batch(self.video, arrays, ids))
        with self.clock.stage("rows"):
            self.raw.append(self.scorer.rows(out))
        by_id = {f.id: f for f in self.window}
        for _, frame_id, emap in frame_maps(out):
            if frame_id in by_id:
                by_id[frame_id].add_error(emap.float().cpu().numpy())

    def _release(self, pending_start: float) -> list[WindowFrame]:
        """Frames before the earliest start of a clip still to be scored leave the window; their
        aggregated rows become ``last_chunk``."""
        frontier = min(pending_start, self.cutter.earliest_future_start())
        done = []
        while self.window and self.window[0].position < frontier:
            done.append(self.window.popleft())
        with self.clock.stage("rows"):
            self.last_chunk = self._aggregate({f.id for f in done}) if done and self.raw else None
        return done

    def _aggregate(self, ids: set[int]) -> pd.DataFrame | None:
        raw = pd.concat(self.raw, ignore_index=True)
        complete = raw["frame"].isin(ids).to_numpy()
        self.raw = [raw[~complete]] if (~complete).any() else []
        rows = raw[complete]
        if rows.empty:
            return None
        scored = np.unique(rows["frame"].to_numpy())
        chunk = assemble_scores(rows, [plain_video(self.video, "", scored)], self.aggregate)
        chunk = chunk.drop(columns="filled")
        self.rows.append(chunk)
        return chunk


def plain_video(
    video: str,
    source: str,
    ids: np.ndarray,
    info: pd.DataFrame | None = None,
) -> CachedVideo:
    """A ``CachedVideo`` without cached frames: what score assembly needs of a streamed video."""
    ids = np.asarray(ids, dtype=np.int64)
    notes = info if info is not None else pd.DataFrame(index=pd.Index(ids, name="frame"))
    return CachedVideo("test", video, source, Path(source), ids, ids, None, notes)
