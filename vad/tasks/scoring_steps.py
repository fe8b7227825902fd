"""What scoring a model's test videos shares between a checkpoint and an exported model (no
Lightning): the scoring settings applied to the model, the stored statistics written beside the
scores, and the evaluation of the scores."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from vad.io.atomic import write_csv, write_json
from vad.io.scores import STATS_FILE
from vad.scoring.metrics import evaluate
from vad.scoring.options import ScoringOptions
from vad.scoring.pipeline import score_frame
from vad.scoring.train_stats import check_stats_compatible
from vad.tasks.printing import print_metrics

if TYPE_CHECKING:  # an exported model (vad.deploy.runtime.OnnxModel) stands in for one
    from vad.models.base import VADModule


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


def prepare_scoring(model: VADModule, options: ScoringOptions, uses_stats: bool) -> None:
    """Apply ``scoring.patch_size``; when the run uses the stored training statistics, check they
    exist for the score column (``options`` resolved with ``for_model``) and were computed with
    this run's aggregation and patch size."""
    apply_patch_size(model, options)
    if uses_stats:
        check_stats_compatible(
            model.fitted.score_stats, options.column, options.aggregate, int(model.patch_size)
        )


def write_stats_beside(model: VADModule, options: ScoringOptions, output_dir: Path) -> None:
    """``score_stats.json`` beside ``scores.csv`` when the model has statistics of the same
    aggregation and patch size: what the ensemble normalises these scores with."""
    stats = model.fitted.score_stats
    if not stats or (output_dir / STATS_FILE).is_file():
        return
    same = stats.get("aggregate") in (None, options.aggregate) and stats.get("patch_size") in (
        None,
        int(model.patch_size),
    )
    if same:
        write_json(stats, output_dir / STATS_FILE)


def apply_patch_size(model: VADModule, options: ScoringOptions) -> None:
    """``scoring.patch_size`` (when set) overrides the model's k of the ``patch_max`` column."""
    if options.patch_size is not None:
        model.patch_size = options.patch_size
