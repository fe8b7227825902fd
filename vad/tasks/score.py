"""Score videos with a model: test videos (scores, metrics, visual report) and held-out validation
videos (the training statistics of the train-statistics protocol)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from vad.data.datamodule import VideoDataModule
from vad.errors import CheckpointError, DataError
from vad.io.atomic import write_csv, write_json
from vad.io.scores import read_scores, write_scores
from vad.io.writer import ScoreWriter
from vad.models.base import VADModule
from vad.models.checkpoint import load_model, store_score_stats
from vad.scoring.alignment import check_alignment
from vad.scoring.assemble import assemble_scores, prediction_rows
from vad.scoring.metrics import evaluate
from vad.scoring.options import ScoringOptions
from vad.scoring.pipeline import score_frame
from vad.scoring.train_stats import column_stats, score_statistics
from vad.tasks.instantiate import instantiate_datamodule
from vad.tasks.report import console, print_metrics
from vad.visualization.examples import collect_examples, top_frames
from vad.visualization.loggers import log_figures
from vad.visualization.report import write_report

log = logging.getLogger(__name__)
TRAIN_STATS_MODES = ("auto", "refit", "never")


def score_videos(
    model: VADModule,
    datamodule: VideoDataModule,
    trainer_cfg: DictConfig,
    output_dir: str | Path,
    scoring: DictConfig,
    loggers: Sequence[Any] = (),
) -> dict[str, Any]:
    """Write ``scores.csv`` for the test videos, then, when they are labelled, ``metrics.json``,
    ``per_video.csv``, ``report.md`` and its figures (also sent to ``loggers``).

    Train-statistics normalisations use ``model.score_stats`` (see ``fit_score_stats``).
    Returns the metrics (empty without labels).
    """
    output_dir = Path(output_dir)
    options = ScoringOptions.from_config(scoring)
    prepare_scoring(model, options, scoring, uses_stats=options.needs_train_stats)
    scores, fps = _predict_test_scores(model, datamodule, trainer_cfg, output_dir, scoring)
    if "label" not in scores.columns:
        return {}
    frame, metrics, videos = evaluate_scores(
        scores, options, output_dir, getattr(model, "score_stats", None)
    )
    metrics["inference_fps"] = fps
    write_json(metrics, output_dir / "metrics.json")
    report = scoring.get("report") or {}
    if report.get("enabled", True):
        picks = top_frames(frame, int(report.get("top_k", 8)), int(report.get("min_gap", 10)))
        examples = collect_examples(model, datamodule.videos("test"), picks)
        figures = write_report(
            frame, metrics, videos, output_dir, "Evaluation report", options.describe(), examples
        )
        console.print(f"report: {output_dir / 'report.md'} ({len(figures)} figures)")
        log_figures(loggers, figures)
    return metrics


def _predict_test_scores(
    model: VADModule,
    datamodule: VideoDataModule,
    trainer_cfg: DictConfig,
    output_dir: Path,
    scoring: DictConfig,
) -> tuple[pd.DataFrame, float]:
    """``scores.csv`` of the test videos, checked against the layout, and frames per second."""
    datamodule.configure_clips(model.clip_length, model.modalities)
    writer = ScoreWriter(output_dir, scoring.get("aggregate", "mean"))
    trainer = hydra.utils.instantiate(
        trainer_cfg, callbacks=[writer], logger=False, enable_checkpointing=False
    )
    datamodule.videos("test")  # decode/preprocess into the cache first: not part of inference speed
    start = time.perf_counter()
    trainer.predict(model, datamodule=datamodule, return_predictions=False)
    seconds = time.perf_counter() - start
    scores = read_scores(writer.path)
    check_alignment(scores, datamodule.split_table("test"), str(writer.path))
    fps = len(scores) / seconds if seconds > 0 else float("nan")
    console.print(
        f"scored {len(scores)} frames of {scores['video'].nunique()} videos in "
        f"{seconds:.1f} s ({fps:.1f} frames/s) -> {writer.path}"
    )
    return scores, fps


def evaluate_scores(
    scores: pd.DataFrame,
    options: ScoringOptions,
    output_dir: Path,
    stats: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """The evaluated frame table, its metrics and per-video metrics (``per_video.csv``)."""
    frame = score_frame(scores, options, stats)
    summary, videos = evaluate(frame)
    write_csv(videos, output_dir / "per_video.csv", float_format="%.6f")
    print_metrics(summary, videos, title=options.describe())
    return frame, {**summary, "score": options.as_dict()}, videos


def fit_score_stats(
    model: VADModule,
    datamodule: VideoDataModule,
    trainer_cfg: DictConfig,
    output_dir: str | Path,
    scoring: DictConfig,
) -> dict[str, Any]:
    """Score the held-out validation videos and return the statistics of every score column;
    writes ``val_scores.csv`` and ``score_stats.json`` into ``output_dir``."""
    output_dir = Path(output_dir)
    aggregate = scoring.get("aggregate", "mean")
    _apply_patch_size(model, scoring)
    datamodule.configure_clips(model.clip_length, model.modalities)
    videos = datamodule.videos("val")
    if not videos:
        raise DataError(
            "training statistics need held-out normal validation videos, but data.val_videos "
            "selects none"
        )
    trainer = hydra.utils.instantiate(
        trainer_cfg, devices=1, callbacks=[], logger=False, enable_checkpointing=False
    )
    batches = trainer.predict(model, dataloaders=datamodule.val_dataloader())
    raw = pd.concat([prediction_rows(batch) for batch in batches], ignore_index=True)
    assembled = assemble_scores(raw, videos, aggregate)
    scores = model.finalize_scores(assembled)
    derived = [c for c in scores.columns if c not in assembled.columns]
    columns = [c for c in raw.columns if c not in ("video", "frame")] + derived
    write_scores(scores, output_dir / "val_scores.csv")
    stats = score_statistics(scores, columns, "val", aggregate)
    stats["patch_size"] = int(getattr(model, "patch_size", 0))
    write_json(stats, output_dir / "score_stats.json")
    console.print(
        f"training statistics of {columns} on {stats['frames']} frames of the validation "
        f"videos {stats['videos']} -> {output_dir / 'score_stats.json'}"
    )
    return stats


def fit_and_store_score_stats(
    model: VADModule,
    ckpt: str | Path,
    datamodule: VideoDataModule,
    trainer_cfg: DictConfig,
    output_dir: str | Path,
    scoring: DictConfig,
) -> dict[str, Any]:
    """``fit_score_stats`` for ``model`` (loaded from ``ckpt``), stored in ``ckpt`` and set as
    ``model.score_stats``."""
    stats = fit_score_stats(model, datamodule, trainer_cfg, output_dir, scoring)
    store_score_stats(ckpt, stats)
    model.score_stats = stats
    console.print(f"stored the training statistics in {ckpt}")
    return stats


def ensure_score_stats(
    cfg: DictConfig,
    model: VADModule,
    meta: Mapping[str, Any],
    ckpt: Path,
    needed: bool,
    datamodule: VideoDataModule | None = None,
) -> None:
    """Fit and store the training statistics on ``scoring.train_stats=refit``, or when they are
    ``needed`` and the checkpoint has none (``auto``). They always come from the checkpoint's own
    training data: ``datamodule`` when it is that data, else one built from ``meta``."""
    mode = train_stats_mode(cfg.scoring)
    if not (mode == "refit" or (mode == "auto" and needed and model.score_stats is None)):
        return
    try:
        if datamodule is None:
            own = OmegaConf.create(dict(meta["data"]))
            datamodule = instantiate_datamodule(own, cfg.get("preprocess"))
        fit_and_store_score_stats(
            model, ckpt, datamodule, cfg.trainer, cfg.paths.output_dir, cfg.scoring
        )
    except DataError as exc:
        raise CheckpointError(
            f"{ckpt}: the checkpoint has no training statistics and they cannot be computed "
            f"from its training data ({exc}); set infer.threshold=<score> or use a "
            "normalisation without them"
        ) from exc


def fit_stats_after_training(
    ckpt: str | Path | None,
    datamodule: VideoDataModule,
    trainer_cfg: DictConfig,
    output_dir: str | Path,
    scoring: DictConfig,
) -> dict[str, Any] | None:
    """After training: store the statistics of the best checkpoint on the validation videos
    (``scoring.train_stats``: auto = when there are validation videos, never = skip)."""
    mode = train_stats_mode(scoring)
    if not ckpt or mode == "never":
        return None
    if not len(datamodule.split_table("val")):
        if mode == "refit":
            raise DataError("scoring.train_stats=refit needs validation videos (data.val_videos)")
        log.info("no validation videos: training statistics are not computed")
        return None
    model, _ = load_model(ckpt)
    return fit_and_store_score_stats(model, ckpt, datamodule, trainer_cfg, output_dir, scoring)


def train_stats_mode(scoring: DictConfig) -> str:
    mode = str(scoring.get("train_stats", "auto"))
    if mode not in TRAIN_STATS_MODES:
        raise DataError(
            f"scoring.train_stats={mode!r} is unknown (choose from {', '.join(TRAIN_STATS_MODES)})"
        )
    return mode


def check_stats_match(
    stats: Mapping[str, Any], model: VADModule, options: ScoringOptions, scoring: DictConfig
) -> None:
    """Stored statistics must come from the same clip aggregation (and patch size for
    ``patch_max``)."""
    want = {"aggregate": scoring.get("aggregate", "mean")}
    if options.column == "patch_max":
        want["patch_size"] = int(getattr(model, "patch_size", 0))
    for key, value in want.items():
        if key in stats and stats[key] != value:
            raise CheckpointError(
                f"the stored training statistics were computed with {key}={stats[key]}, "
                f"this run uses {key}={value}; refit them with scoring.train_stats=refit"
            )


def prepare_scoring(
    model: VADModule, options: ScoringOptions, scoring: DictConfig, uses_stats: bool
) -> None:
    """Apply ``scoring.patch_size``; when the run uses the stored training statistics, check they
    exist for the score column and were computed with this run's aggregation and patch size."""
    _apply_patch_size(model, scoring)
    if uses_stats:
        stats = getattr(model, "score_stats", None)
        column_stats(stats, options.column)
        check_stats_match(stats, model, options, scoring)


def _apply_patch_size(model: VADModule, scoring: DictConfig) -> None:
    """``scoring.patch_size`` (when set) overrides the model's k of the ``patch_max`` column."""
    if scoring.get("patch_size") is not None:
        model.patch_size = int(scoring.patch_size)
