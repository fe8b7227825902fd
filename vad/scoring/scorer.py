"""The one scorer: a model's clip outputs -> per-frame rows (video, original frame id, columns).

Every caller scores through it: the prediction writer (test scores and validation statistics),
streaming inference, the example figures and the pseudo-anomaly validation score. ``rows`` turns a
``Prediction`` into raw per-clip rows, ``assemble`` aggregates them into one row per frame of each
video and lets the model derive its columns (``finalize_scores``). Batches that do not come from a
Lightning loop (streaming, figures, synthetic clips) go through ``run``: the one place that moves
a clip batch to the model's device and converts it (``on_after_batch_transfer``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from vad.data.batch import ClipBatch, collate_clips
from vad.data.cache import CachedVideo
from vad.data.clips import ClipDataset
from vad.models.prediction import Prediction
from vad.scoring.assemble import assemble_scores

if TYPE_CHECKING:  # or an exported model (vad.deploy.runtime.OnnxModel)
    from vad.models.base import VADModule


class Scorer:
    """Scores clips with ``model``; ``aggregate`` (mean | max) combines clips covering a frame."""

    def __init__(self, model: VADModule, aggregate: str = "mean") -> None:
        if aggregate not in ("mean", "max"):
            raise ValueError(f"aggregate must be 'mean' or 'max', got {aggregate!r}")
        self.model, self.aggregate = model, aggregate
        #: the score columns of the last ``assemble``: raw error columns, then derived ones
        self.columns: list[str] = []

    # ---- clip outputs -> rows ----------------------------------------------------------------
    def rows(self, out: Prediction) -> pd.DataFrame:
        """Raw per-clip rows of one batch: ``video``, ``frame`` (int64, never through a float: ids
        above 2**24 would be rounded) and the model's error columns, in clip-major order."""
        if out.frame_ids is None:
            raise ValueError("the prediction does not say which frames it scored (predict_clips)")
        ids = out.frame_ids.detach().cpu().numpy().astype(np.int64)
        per_clip = ids.shape[1]
        rows = pd.DataFrame(
            {"video": [v for v in out.video for _ in range(per_clip)], "frame": ids.reshape(-1)}
        )
        for name, values in self.model.frame_scores(out).items():
            rows[name] = torch.as_tensor(values).detach().float().cpu().numpy()
        return rows

    def assemble(self, raw: pd.DataFrame, videos: Sequence[CachedVideo]) -> pd.DataFrame:
        """One row per frame of each of ``videos`` (``vad.scoring.assemble``), with the model's
        derived columns; ``columns`` lists their score columns."""
        assembled = assemble_scores(raw, videos, self.aggregate)
        scores = self.model.finalize_scores(assembled)
        raw_columns = [c for c in raw.columns if c not in ("video", "frame")]
        self.columns = raw_columns + [c for c in scores.columns if c not in assembled.columns]
        return scores

    # ---- batches outside a Lightning loop ----------------------------------------------------
    @torch.inference_mode()
    def run(self, batch: ClipBatch | Mapping[str, Any]) -> Prediction:
        """The model's ``Prediction`` for a clip batch as ``ClipDataset`` items collate (uint8
        frames on the CPU), in eval mode."""
        device = self.model.device  # also for a model without parameters (a density)
        moved = ClipBatch.of(batch).to(device)
        was_training = self.model.training
        self.model.eval()
        try:
            return self.model.predict_clips(self.model.on_after_batch_transfer(moved, 0))
        finally:
            self.model.train(was_training)

    def clip_batch(
        self, video: str, arrays: Mapping[str, np.ndarray], frame_ids: np.ndarray
    ) -> ClipBatch:
        """A batch of N clips of one video: ``arrays`` (N, L, ...) per modality, ids (N, L)."""
        batch: dict[str, Any] = {k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()}
        batch["video"] = [video] * len(frame_ids)
        batch["frame_ids"] = torch.from_numpy(np.asarray(frame_ids, dtype=np.int64))
        return ClipBatch.of(batch)

    def predictions(
        self, videos: Sequence[CachedVideo], batch_size: int = 16, stride: int = 1
    ) -> Iterator[Prediction]:
        """The ``Prediction`` of every clip batch of ``videos`` (the data layer's clips)."""
        dataset = ClipDataset(videos, self.model.clip_length, stride, self.model.modalities)
        # a private generator: scoring (e.g. a validation callback) never draws on the global
        # RNG, so it cannot change how a training run shuffles
        generator = torch.Generator()
        loader = DataLoader(dataset, batch_size, collate_fn=collate_clips, generator=generator)
        for batch in loader:
            yield self.run(batch)

    def score_videos(
        self, videos: Sequence[CachedVideo], batch_size: int = 16, stride: int = 1
    ) -> pd.DataFrame:
        """The assembled one-row-per-frame scores of ``videos``, scored in this process."""
        parts = [self.rows(out) for out in self.predictions(videos, batch_size, stride)]
        return self.assemble(pd.concat(parts, ignore_index=True), videos)


def frame_maps(
    out: Prediction, maps: torch.Tensor | None = None
) -> Iterator[tuple[str, int, torch.Tensor]]:
    """``(video, original frame id, map (H, W))`` of every output frame: of ``maps`` (B, P, H, W)
    when given, else the squared-error (or the model's own) map."""
    maps = out.error_maps() if maps is None else maps
    ids = out.frame_ids.tolist()
    for b, video in enumerate(out.video):
        for p, frame_id in enumerate(ids[b]):
            yield video, int(frame_id), maps[b, p]
