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

from vad.data.cache import CachedVideo
from vad.data.datamodule import VideoDataModule
from vad.errors import CheckpointError, DataError
from vad.io.atomic import write_json
from vad.io.scores import SCORING_FILE, STATS_FILE, read_scores
from vad.models.base import VADModule
from vad.models.checkpoint import load_model, store_score_stats
from vad.models.contract import LOWER_IS_ANOMALOUS, model_name
from vad.scoring.alignment import check_alignment
from vad.scoring.options import ScoringOptions
from vad.scoring.pixel_maps import ERROR, MAPS_DIR, MapWriter, evaluate_maps, map_names
from vad.scoring.scorer import Scorer
from vad.scoring.train_stats import score_statistics
from vad.scoring.writer import ScoreWriter
from vad.tasks.checks import check_clips, check_score_column
from vad.tasks.fitted_moments import refresh_moments, stale_moments
from vad.tasks.instantiate import instantiate_datamodule
from vad.tasks.printing import console
from vad.tasks.scoring_steps import (
    apply_patch_size,
    evaluate_scores,
    prepare_scoring,
    write_stats_beside,
)
from vad.visualization.examples import collect_examples, top_frames
from vad.visualization.loggers import log_figures
from vad.visualization.report import write_report

log = logging.getLogger(__name__)
VAL_SCORES_FILE = "val_scores.csv"


def score_videos(
    model: VADModule,
    datamodule: VideoDataModule,
    trainer_cfg: DictConfig,
    output_dir: str | Path,
    options: ScoringOptions,
    loggers: Sequence[Any] = (),
) -> dict[str, Any]:
    """Write ``scores.csv`` for the test videos, then, when they are labelled, ``metrics.json``,
    ``per_video.csv``, ``report.md`` and its figures (also sent to ``loggers``); test videos with
    pixel masks also get ``pixel_maps/`` and localisation metrics (``scoring.pixel``).

    Train-statistics normalisations use ``model.fitted.score_stats`` (see ``fit_score_stats``).
    Returns the metrics (empty without labels).
    """
    output_dir = Path(output_dir)
    options = options.for_model(model.contract)
    prepare_scoring(model, options, uses_stats=options.needs_train_stats)
    scores, fps = _predict_test_scores(model, datamodule, trainer_cfg, output_dir, options)
    write_stats_beside(model, options, output_dir)
    if "label" not in scores.columns:
        return {}
    frame, metrics, videos = evaluate_scores(scores, options, output_dir, model.fitted.score_stats)
    metrics["inference_fps"] = fps
    if options.pixel:
        metrics.update(_localisation(output_dir, datamodule.videos("test"), options.pixel_sigma))
    write_json(metrics, output_dir / "metrics.json")
    report = options.report
    if report.enabled:
        picks = top_frames(frame, report.top_k, report.min_gap)
        examples = collect_examples(
            Scorer(model, options.aggregate), datamodule.videos("test"), picks
        )
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
    options: ScoringOptions,
) -> tuple[pd.DataFrame, float]:
    """``scores.csv`` of the test videos, checked against the layout, and frames per second."""
    datamodule.configure_clips(model.clip_length, model.modalities)
    writer = ScoreWriter(output_dir, options.aggregate)
    callbacks = [writer]
    test_videos = datamodule.videos("test")
    if options.pixel and any(v.masks for v in test_videos):
        callbacks.append(MapWriter(output_dir, test_videos, options.aggregate))
    trainer = hydra.utils.instantiate(
        trainer_cfg, callbacks=callbacks, logger=False, enable_checkpointing=False
    )
    # decode/preprocess into the cache first (not part of inference speed), check every video
    check_clips(test_videos, model.clip_length)
    check_score_column(Scorer(model, options.aggregate), test_videos, options.column)
    start = time.perf_counter()
    trainer.predict(model, datamodule=datamodule, return_predictions=False)
    seconds = time.perf_counter() - start
    scores = read_scores(writer.path)
    check_alignment(scores, datamodule.split_table("test"), str(writer.path))
    settings = {
        "aggregate": options.aggregate,
        "patch_size": int(model.patch_size),
        "image_size": list(model.image_size),
        "column": options.column,
        "higher_is_anomalous": options.column not in LOWER_IS_ANOMALOUS,
        "model": model_name(model),
        "contract": model.contract.describe(),
    }
    write_json(settings, output_dir / SCORING_FILE)
    fps = len(scores) / seconds if seconds > 0 else float("nan")
    console.print(
        f"scored {len(scores)} frames of {scores['video'].nunique()} videos in "
        f"{seconds:.1f} s ({fps:.1f} frames/s) -> {writer.path}"
    )
    return scores, fps


def _localisation(output_dir: Path, videos: Sequence[CachedVideo], sigma: float) -> dict[str, Any]:
    """Pixel-level metrics of the stored maps of the videos with masks ({} when none has)."""
    if not any(v.masks for v in videos):
        return {}
    if not (output_dir / MAPS_DIR).is_dir():  # prediction ran in several processes
        log.warning("pixel maps were not collected: no localisation metrics")
        return {}
    start = time.perf_counter()
    metrics: dict[str, Any] = {}
    for name in map_names(output_dir / MAPS_DIR):
        found = evaluate_maps(output_dir / MAPS_DIR, videos, sigma, name) or {}
        prefix = "" if name == ERROR else f"{name}_"
        metrics.update({f"{prefix}{key}": value for key, value in found.items()})
    shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
    console.print(f"localisation ({time.perf_counter() - start:.1f} s): {shown}")
    return metrics


def fit_score_stats(
    model: VADModule,
    datamodule: VideoDataModule,
    trainer_cfg: DictConfig,
    output_dir: str | Path,
    options: ScoringOptions,
) -> dict[str, Any]:
    """Score the held-out validation videos and return the statistics of every score column;
    writes ``val_scores.csv`` and ``score_stats.json`` into ``output_dir``."""
    output_dir = Path(output_dir)
    aggregate = options.aggregate
    apply_patch_size(model, options)
    datamodule.configure_clips(model.clip_length, model.modalities)
    videos = datamodule.videos("val")
    if not videos:
        raise DataError(
            "training statistics need held-out normal validation videos, but data.val_videos "
            "selects none"
        )
    writer = ScoreWriter(output_dir, aggregate, VAL_SCORES_FILE, videos)
    trainer = hydra.utils.instantiate(
        trainer_cfg, devices=1, callbacks=[writer], logger=False, enable_checkpointing=False
    )
    trainer.predict(model, dataloaders=datamodule.val_dataloader(), return_predictions=False)
    scores = read_scores(writer.path)
    columns = writer.columns
    stats = score_statistics(scores, columns, "val", aggregate)
    stats["patch_size"] = int(getattr(model, "patch_size", 0))
    write_json(stats, output_dir / STATS_FILE)
    console.print(
        f"training statistics of {columns} on {stats['frames']} frames of the validation "
        f"videos {stats['videos']} -> {output_dir / STATS_FILE}"
    )
    return stats


def fit_and_store_score_stats(
    model: VADModule,
    ckpt: str | Path,
    datamodule: VideoDataModule,
    trainer_cfg: DictConfig,
    output_dir: str | Path,
    options: ScoringOptions,
) -> dict[str, Any]:
    """``fit_score_stats`` for ``model`` (loaded from ``ckpt``), stored in ``ckpt`` and set as
    ``model.fitted.score_stats``."""
    stats = fit_score_stats(model, datamodule, trainer_cfg, output_dir, options)
    store_score_stats(ckpt, stats)
    model.fitted.score_stats = stats
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
    """Measure stale validation moments again (``vad.tasks.fitted_moments``), then fit and store
    the training statistics on ``scoring.train_stats=refit``, or when they are ``needed`` and the
    checkpoint has none (``auto``). Both come from the checkpoint's own training data:
    ``datamodule`` when it is that data, else one built from ``meta``."""
    options = ScoringOptions.from_config(cfg.scoring)
    if stale_moments(model, meta.get("global_step")) is not None:
        datamodule = _refreshed(cfg, model, meta, ckpt, datamodule)
    if not _wants_stats(options.train_stats, needed, model):
        return
    try:
        datamodule = datamodule or _own_datamodule(cfg, meta)
        fit_and_store_score_stats(
            model, ckpt, datamodule, cfg.trainer, cfg.paths.output_dir, options
        )
    except DataError as exc:
        raise CheckpointError(
            f"{ckpt}: the checkpoint has no training statistics and they cannot be computed "
            f"from its training data ({exc}); set infer.threshold=<score> or use a "
            "normalisation without them"
        ) from exc


def _own_datamodule(cfg: DictConfig, meta: Mapping[str, Any]) -> VideoDataModule:
    return instantiate_datamodule(OmegaConf.create(dict(meta["data"])), cfg.get("preprocess"))


def _refreshed(
    cfg: DictConfig,
    model: VADModule,
    meta: Mapping[str, Any],
    ckpt: Path,
    datamodule: VideoDataModule | None,
) -> VideoDataModule | None:
    """``refresh_moments`` on the checkpoint's own data; where that data cannot be read, a
    warning (the model's own checks then say what its scores lack)."""
    try:
        datamodule = datamodule or _own_datamodule(cfg, meta)
        refresh_moments(model, meta, ckpt, datamodule, cfg.trainer)
    except DataError as exc:
        log.warning("%s: stale validation moments not measured again (%s)", ckpt, exc)
    return datamodule


def _wants_stats(mode: str, needed: bool, model: VADModule) -> bool:
    return mode == "refit" or (mode == "auto" and needed and model.fitted.score_stats is None)


def fit_stats_after_training(
    ckpt: str | Path | None,
    datamodule: VideoDataModule,
    trainer_cfg: DictConfig,
    output_dir: str | Path,
    options: ScoringOptions,
) -> dict[str, Any] | None:
    """After training: store the statistics of the best checkpoint on the validation videos
    (``scoring.train_stats``: auto = when there are validation videos, never = skip)."""
    mode = options.train_stats
    if not ckpt or mode == "never":
        return None
    if not len(datamodule.split_table("val")):
        if mode == "refit":
            raise DataError("scoring.train_stats=refit needs validation videos (data.val_videos)")
        log.info("no validation videos: training statistics are not computed")
        return None
    model, _ = load_model(ckpt)
    return fit_and_store_score_stats(model, ckpt, datamodule, trainer_cfg, output_dir, options)
