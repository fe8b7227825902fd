"""Sample predictions during training: every N validations, a few fixed validation frames with the
model's prediction (or reconstruction) and squared-error map, saved as a PNG and sent to the
loggers that take images (W&B, TensorBoard)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd

from vad.callbacks.validation_count import EveryNValidations
from vad.data.cache import CachedVideo
from vad.scoring.scorer import Scorer
from vad.visualization.examples import collect_examples, write_examples
from vad.visualization.loggers import log_figures

log = logging.getLogger(__name__)


class SamplePredictions(EveryNValidations):
    """Renders ``frames`` frames spread over the validation videos (the training videos when there
    are none) after every ``every_n_validations``-th validation (counted across epochs, as a
    step budget validates every N steps), on rank 0.

    Writes ``<dirpath>/step_<NNNNNN>.png`` (the frame, the prediction and the error map of each
    sample, the error's mean as its score) and logs it under ``key`` at the global step.
    """

    def __init__(
        self,
        every_n_validations: int = 5,
        frames: int = 4,
        dirpath: str | Path | None = None,
        key: str = "samples/predictions",
    ) -> None:
        if every_n_validations < 1 or frames < 1:
            raise ValueError(
                f"every_n_validations and frames must be >= 1, got {every_n_validations}, {frames}"
            )
        super().__init__(every_n_validations)
        self.frames, self.key = frames, key
        self.dirpath = Path(dirpath) if dirpath is not None else None
        self.written: list[Path] = []

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        if not self.due():
            return
        datamodule = trainer.datamodule
        videos = datamodule.videos("val") or datamodule.videos("train")
        picks = spread_frames(videos, int(pl_module.clip_length), self.frames)
        examples = collect_examples(Scorer(pl_module), videos, picks)
        if not examples:
            log.warning("no sample frame could be predicted; nothing logged")
            return
        for example in examples:
            example.score = float(example.error.mean())
        path = self._write(examples, trainer)
        self.written.append(path)
        log_figures(trainer.loggers, {self.key: path}, step=trainer.global_step)

    def _write(self, examples: list, trainer: L.Trainer) -> Path:
        folder = self.dirpath or Path(trainer.default_root_dir) / "samples"
        name = f"step_{trainer.global_step:06d}"
        _, grid = write_examples(examples, folder / name)
        path = folder / f"{name}.png"
        os.replace(grid, path)
        return path


def spread_frames(videos: list[CachedVideo], clip_length: int, count: int) -> pd.DataFrame:
    """``count`` frames spread evenly over the videos and over each video's frames, skipping the
    first ``clip_length - 1`` (no clip ends before them)."""
    rows: list[dict] = []
    if not videos or count < 1:
        return pd.DataFrame(rows, columns=["video", "frame", "score"])
    n = min(count, len(videos))
    chosen = [videos[i] for i in np.linspace(0, len(videos) - 1, n).round().astype(int)]
    per_video = np.array_split(np.arange(count), n)
    for video, share in zip(chosen, per_video, strict=False):
        ids = video.frame_ids[clip_length - 1 :] if len(video) >= clip_length else []
        if len(ids) == 0 or len(share) == 0:
            continue
        at = np.linspace(0, len(ids) - 1, len(share) + 2)[1:-1].round().astype(int)
        rows += [{"video": video.video, "frame": int(ids[i]), "score": np.nan} for i in at]
    return pd.DataFrame(rows, columns=["video", "frame", "score"])
