"""Score the test videos of a DataModule with a model and evaluate when labels exist."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from omegaconf import DictConfig

from vad.data.datamodule import VideoDataModule
from vad.io.atomic import write_csv, write_json
from vad.io.scores import read_scores
from vad.io.writer import ScoreWriter
from vad.models.base import VADModule
from vad.scoring.metrics import evaluate
from vad.scoring.pipeline import anomaly_scores
from vad.tasks.report import console, print_metrics

log = logging.getLogger(__name__)


def score_videos(
    model: VADModule,
    datamodule: VideoDataModule,
    trainer_cfg: DictConfig,
    output_dir: str | Path,
    scoring: DictConfig,
) -> dict[str, Any]:
    """Write ``scores.csv`` for the test videos, then ``metrics.json`` and ``per_video.csv`` when
    the videos are labelled. Returns the metrics (empty without labels)."""
    output_dir = Path(output_dir)
    datamodule.configure_clips(model.clip_length, model.modalities)
    writer = ScoreWriter(output_dir, scoring.get("aggregate", "mean"))
    trainer = hydra.utils.instantiate(
        trainer_cfg, callbacks=[writer], logger=False, enable_checkpointing=False
    )
    start = time.perf_counter()
    trainer.predict(model, datamodule=datamodule, return_predictions=False)
    seconds = time.perf_counter() - start
    scores = read_scores(writer.path)
    fps = len(scores) / seconds if seconds > 0 else float("nan")
    console.print(
        f"scored {len(scores)} frames of {scores['video'].nunique()} videos in "
        f"{seconds:.1f} s ({fps:.1f} frames/s) -> {writer.path}"
    )
    if "label" not in scores.columns:
        return {}
    metrics = evaluate_scores(scores, scoring, output_dir)
    metrics["inference_fps"] = fps
    write_json(metrics, output_dir / "metrics.json")
    return metrics


def evaluate_scores(scores: pd.DataFrame, scoring: DictConfig, output_dir: Path) -> dict[str, Any]:
    """Evaluate the configured score (column, normalisation, smoothing); writes per_video.csv."""
    column, norm = scoring.get("column", "psnr"), scoring.get("normalization", "minmax")
    sigma = float(scoring.get("smoothing", {}).get("sigma", 0.0))
    frame = scores[["video", "frame", "label"]].assign(
        score=anomaly_scores(scores, column, norm, sigma).to_numpy()
    )
    summary, videos = evaluate(frame)
    write_csv(videos, output_dir / "per_video.csv", float_format="%.6f")
    print_metrics(summary, videos, title=f"{column}, {norm} per video, smoothing sigma={sigma}")
    return {**summary, "score": {"column": column, "normalization": norm, "sigma": sigma}}
