"""A prediction writer that streams per-clip scores to disk and assembles one score file.

Every batch's ``Prediction`` becomes rows through the one scorer (``vad.scoring.scorer``) and is
appended to a per-rank part file, so predictions are never held in memory. When prediction ends,
rank 0 merges the parts, aggregates frames scored by several clips, fills frames without a full
clip, joins labels and writes the file (``scores.csv`` for the test videos, ``val_scores.csv``
for the validation videos) atomically.

Under DDP a clip may reach more than one rank (a sampler that pads or does not split the data), so
each row carries the dataset index of its clip (``CLIP``) and the merge keeps one row per
(clip, video, frame): a frame scored by several *different* clips keeps all of them for the
aggregation. Rows of a batch are mapped to clips in order, ``len(rows) / batch size`` per clip
(the clip-major order of ``Scorer.rows``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd
from lightning.pytorch.callbacks import BasePredictionWriter

from vad.data.cache import CachedVideo
from vad.errors import ScoreFileError
from vad.io.scores import KEY, SCORES_FILE, write_scores
from vad.models.base import Prediction
from vad.scoring.scorer import Scorer

#: column of the part files: dataset index of the clip a row comes from (-1: unknown)
CLIP = "_clip"


class ScoreWriter(BasePredictionWriter):
    """Writes ``<output_dir>/<filename>`` with one row per frame of ``videos`` (default: the
    datamodule's test videos); ``aggregate`` combines clips covering one frame."""

    def __init__(
        self,
        output_dir: str | Path,
        aggregate: str = "mean",
        filename: str = SCORES_FILE,
        videos: Sequence[CachedVideo] | None = None,
    ) -> None:
        super().__init__(write_interval="batch")
        self.output_dir, self.aggregate, self.videos = Path(output_dir), aggregate, videos
        self.path = self.output_dir / filename
        self.scorer: Scorer | None = None

    @property
    def columns(self) -> list[str]:
        """The score columns of the written file (raw, then model-derived)."""
        return self.scorer.columns if self.scorer is not None else []

    def _part(self, rank: int) -> Path:
        return self.output_dir / f".{self.path.stem}.rank{rank}.part.csv"

    def on_predict_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.scorer = Scorer(pl_module, self.aggregate)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._part(trainer.global_rank).unlink(missing_ok=True)

    def write_on_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        prediction: Prediction,
        batch_indices: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        rows = self.scorer.rows(prediction)
        rows.insert(0, CLIP, clip_of_rows(len(rows), batch_indices))
        part = self._part(trainer.global_rank)
        rows.to_csv(part, mode="a", header=not part.exists(), index=False, float_format="%.9g")

    def on_predict_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        trainer.strategy.barrier()
        try:
            if trainer.global_rank == 0:
                self._merge(trainer, pl_module)
        finally:  # other ranks must not wait for a rank 0 that failed
            trainer.strategy.barrier()

    def _merge(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        parts = [self._part(r) for r in range(trainer.world_size)]
        raw = merge_parts(parts)
        videos = self.videos if self.videos is not None else trainer.datamodule.videos("test")
        scores = self.scorer.assemble(raw, videos)
        write_scores(scores, self.path)
        for part in parts:
            part.unlink(missing_ok=True)


def clip_of_rows(rows: int, batch_indices: Any) -> list[int]:
    """The dataset index of the clip of each of ``rows`` rows of one batch (clip-major), or -1
    when the indices are unknown or the rows do not split evenly over the clips."""
    indices = list(batch_indices) if batch_indices is not None else []
    if not indices or rows % len(indices):
        return [-1] * rows
    per_clip = rows // len(indices)
    return [int(i) for i in indices for _ in range(per_clip)]


def merge_parts(parts: list[Path]) -> pd.DataFrame:
    """The rows of all part files, one per (clip, video, frame); rows of unknown clips are kept
    unless they are exact copies of another row."""
    frames = [pd.read_csv(p, dtype={"video": str}) for p in parts if p.exists()]
    if not frames:
        names = ", ".join(str(p) for p in parts)
        raise ScoreFileError(f"no prediction rows were written ({names} missing): nothing scored")
    raw = pd.concat(frames, ignore_index=True)
    known = raw[CLIP] >= 0
    merged = pd.concat(
        [raw[known].drop_duplicates([CLIP, *KEY]), raw[~known].drop_duplicates()],
        ignore_index=True,
    )
    return merged.drop(columns=CLIP)
