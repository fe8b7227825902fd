"""A prediction writer that streams per-clip scores to disk and assembles ``scores.csv``.

Every batch's rows are appended to a per-rank part file, so predictions are never held in memory.
When prediction ends, rank 0 merges the parts, aggregates frames scored by several clips, fills
frames without a full clip, joins labels and writes ``scores.csv`` atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd
import torch
from lightning.pytorch.callbacks import BasePredictionWriter

from vad.io.scores import SCORES_FILE, write_scores
from vad.scoring.assemble import assemble_scores


class ScoreWriter(BasePredictionWriter):
    """Writes ``<output_dir>/scores.csv``; ``aggregate`` combines clips covering one frame."""

    def __init__(self, output_dir: str | Path, aggregate: str = "mean") -> None:
        super().__init__(write_interval="batch")
        self.output_dir, self.aggregate = Path(output_dir), aggregate
        self.path = self.output_dir / SCORES_FILE

    def _part(self, rank: int) -> Path:
        return self.output_dir / f".scores.rank{rank}.part.csv"

    def on_predict_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._part(trainer.global_rank).unlink(missing_ok=True)

    def write_on_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        prediction: dict[str, Any],
        batch_indices: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        rows = pd.DataFrame(
            {"video": prediction["video"], "frame": _numpy(prediction["frame"]).astype("int64")}
        )
        for name, values in prediction["scores"].items():
            rows[name] = _numpy(values)
        part = self._part(trainer.global_rank)
        rows.to_csv(part, mode="a", header=not part.exists(), index=False, float_format="%.9g")

    def on_predict_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        trainer.strategy.barrier()
        if trainer.global_rank == 0:
            parts = [self._part(r) for r in range(trainer.world_size)]
            raw = pd.concat(
                [pd.read_csv(p, dtype={"video": str}) for p in parts if p.exists()],
                ignore_index=True,
            )
            scores = assemble_scores(raw, trainer.datamodule.videos("test"), self.aggregate)
            if hasattr(pl_module, "finalize_scores"):
                scores = pl_module.finalize_scores(scores)
            write_scores(scores, self.path)
            for part in parts:
                part.unlink(missing_ok=True)
        trainer.strategy.barrier()


def _numpy(values: Any) -> Any:
    return values.detach().float().cpu().numpy() if torch.is_tensor(values) else values
