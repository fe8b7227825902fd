"""Score one video as a stream: frames are read, scored and released in a bounded window.

Frames arrive one at a time (after the preprocessing stages, resized to the model's input size).
``ClipCutter`` cuts clips of consecutive frame ids exactly as ``vad.data.clips.clip_starts`` does;
``StreamScorer`` runs batches of them through the model's own ``forward`` and ``frame_scores``. A
frame is *complete* once no later clip can cover it: its rows are then aggregated with
``vad.scoring.assemble`` (mean or max over the clips that scored it) and it leaves the window with
the mean of its error maps. The window holds about ``batch_size + clip_length`` frames, whatever
the length of the video.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from vad.data.cache import CachedVideo
from vad.data.flow import NO_FLOW, FlowEstimator
from vad.errors import DataError
from vad.models.base import VADModule
from vad.scoring.assemble import assemble_scores, prediction_rows
from vad.scoring.frame_scores import error_map

STREAMED_MODALITIES = ("frames", "flow")


@dataclass
class Clip:
    """``length`` consecutive frames: ``start`` is the stream position of the first one."""

    start: int
    ids: np.ndarray
    arrays: dict[str, np.ndarray]


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


class ClipCutter:
    """Clips of ``length`` frames every ``stride`` frames inside each run of consecutive ids, plus
    the last window of every run (``vad.data.clips.clip_starts``), cut as the frames arrive."""

    def __init__(self, length: int, stride: int = 1) -> None:
        if length < 1 or stride < 1:
            raise ValueError(f"clip length and stride must be >= 1, got {length}, {stride}")
        self.length, self.stride = length, stride
        self.buffer: deque[tuple[int, dict[str, np.ndarray]]] = deque(maxlen=length)
        self.pushed = 0  # frames seen in the stream
        self.run_start = 0  # stream position of the current run's first frame
        self.last_start: int | None = None

    def push(self, frame_id: int, arrays: dict[str, np.ndarray]) -> list[Clip]:
        clips = []
        if self.buffer and frame_id != self.buffer[-1][0] + 1:
            clips += self.end_run()
        self.buffer.append((frame_id, arrays))
        self.pushed += 1
        start = self.pushed - self.length
        if start >= self.run_start and (start - self.run_start) % self.stride == 0:
            clips.append(self._clip(start))
        return clips

    def end_run(self) -> list[Clip]:
        """The run's last window when the stride skipped it; starts a new run."""
        last = self.pushed - self.length
        clips = []
        if last >= self.run_start and self.last_start != last:
            clips.append(self._clip(last))
        self.buffer.clear()
        self.run_start, self.last_start = self.pushed, None
        return clips

    def earliest_future_start(self) -> int:
        """No clip cut later starts before this stream position."""
        return max(self.run_start, self.pushed - self.length)

    def _clip(self, start: int) -> Clip:
        self.last_start = start
        ids = np.array([i for i, _ in self.buffer], dtype=np.int64)
        names = self.buffer[0][1].keys()
        arrays = {n: np.stack([a[n] for _, a in self.buffer]) for n in names}
        return Clip(start, ids, arrays)


class StreamModalities:
    """The per-frame arrays a model reads, computed as frames arrive: ``frames`` and ``flow``
    (from the previous frame when its id is the previous id, else ``NO_FLOW``, as
    ``vad.data.flow.compute_flow`` stores it)."""

    def __init__(self, names: Sequence[str], flow: Mapping[str, Any] | None = None) -> None:
        unknown = sorted(set(names) - set(STREAMED_MODALITIES))
        if unknown:
            raise DataError(
                f"streaming inference cannot compute the modalities {unknown} "
                f"(supported: {list(STREAMED_MODALITIES)}); score the footage as a dataset "
                "with predict.py data=folder data.root=..."
            )
        self.flow = FlowEstimator(flow) if "flow" in names else None
        self.previous: tuple[int, np.ndarray] | None = None

    def __call__(self, frame_id: int, frame: np.ndarray) -> dict[str, np.ndarray]:
        arrays = {"frames": frame}
        if self.flow is not None:
            flow = np.full((*frame.shape[:2], 2), NO_FLOW, dtype=np.float16)
            if self.previous is not None and self.previous[0] == frame_id - 1:
                flow[:] = self.flow(self.previous[1], frame)
            arrays["flow"] = flow
        self.previous = (frame_id, frame)
        return arrays


class StreamScorer:
    """Scores one video's frames as they arrive; ``push`` and ``finish`` return the frames that
    left the window, ``chunks`` the aggregated rows (one per scored frame) so far."""

    def __init__(
        self,
        model: VADModule,
        video: str,
        batch_size: int,
        stride: int = 1,
        aggregate: str = "mean",
        flow: Mapping[str, Any] | None = None,
    ) -> None:
        self.model, self.video, self.batch_size = model, video, max(1, int(batch_size))
        self.aggregate = aggregate
        self.device = next(model.parameters()).device
        self.cutter = ClipCutter(int(model.clip_length), stride)
        self.modalities = StreamModalities(model.modalities, flow)
        self.window: deque[WindowFrame] = deque()
        self.pending: list[Clip] = []
        self.raw: list[pd.DataFrame] = []
        self.chunks: list[pd.DataFrame] = []
        self.last_chunk: pd.DataFrame | None = None

    def push(self, frame_id: int, frame: np.ndarray, shown: np.ndarray) -> list[WindowFrame]:
        """Add a frame (``frame``: model input size, ``shown``: the image to annotate)."""
        position = self.cutter.pushed
        self.window.append(WindowFrame(frame_id, position, shown))
        self.pending += self.cutter.push(frame_id, self.modalities(frame_id, frame))
        if len(self.pending) >= self.batch_size:
            self._score_pending()
        return self._release(min([c.start for c in self.pending], default=np.inf))

    def finish(self) -> list[WindowFrame]:
        self.pending += self.cutter.end_run()
        self._score_pending()
        return self._release(np.inf)

    @torch.inference_mode()
    def _score_pending(self) -> None:
        if not self.pending:
            return
        clips, self.pending = self.pending, []
        batch = {
            name: torch.from_numpy(np.stack([c.arrays[name] for c in clips])).to(self.device)
            for name in clips[0].arrays
        }
        batch["video"] = [self.video] * len(clips)
        batch["frame_ids"] = torch.from_numpy(np.stack([c.ids for c in clips])).to(self.device)
        batch = self.model.on_after_batch_transfer(batch, 0)
        out = self.model(batch)
        self.raw.append(prediction_rows(self.model.frame_scores(batch, out)))
        self._add_error_maps(batch["frame_ids"], out)

    def _add_error_maps(self, frame_ids: torch.Tensor, out: Any) -> None:
        by_id = {f.id: f for f in self.window}
        for j, position in enumerate(out.positions):
            pred = out.pred if out.pred.ndim == 4 else out.pred[:, j]
            target = out.target if out.target.ndim == 4 else out.target[:, j]
            maps = error_map(pred, target)[:, 0].float().cpu().numpy()
            for frame_id, emap in zip(frame_ids[:, position].tolist(), maps, strict=True):
                if frame_id in by_id:
                    by_id[frame_id].add_error(emap)

    def _release(self, pending_start: float) -> list[WindowFrame]:
        """Frames before the earliest start of a clip still to be scored leave the window; their
        aggregated rows become ``last_chunk``."""
        frontier = min(pending_start, self.cutter.earliest_future_start())
        done = []
        while self.window and self.window[0].position < frontier:
            done.append(self.window.popleft())
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
        self.chunks.append(chunk)
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
