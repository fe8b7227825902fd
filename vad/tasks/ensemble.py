"""Fuse the scores of several models (or one) and write a submission and metrics."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from vad.ensemble.fusion import normalized_weights, weighted_mean
from vad.ensemble.members import Member, check_same_frames, labels_of, load_member
from vad.ensemble.submission import write_submission
from vad.errors import ScoreFileError
from vad.io.atomic import write_csv, write_json
from vad.scoring.metrics import evaluate
from vad.scoring.pipeline import anomaly_scores
from vad.scoring.smoothing import smooth
from vad.tasks.report import console, print_metrics

log = logging.getLogger(__name__)


def ensemble(cfg: DictConfig) -> float | None:
    """Weighted mean of per-video normalised member scores, smoothed per video along frame ids.

    Members with no ``scores`` path are skipped. Writes ``fused_scores.csv``, ``submission.csv``
    and, when the scores carry labels, ``metrics.json`` and ``per_video.csv``.
    """
    output_dir = Path(cfg.paths.output_dir)
    members = _members(cfg)
    check_same_frames(members)
    weights = normalized_weights({m.name: m.weight for m in members})
    fused = members[0].scores[["video", "frame"]].copy()
    for m in members:
        fused[m.name] = anomaly_scores(m.scores, m.column, m.normalization).to_numpy()
    fused["score"] = weighted_mean({m.name: fused[m.name].to_numpy() for m in members}, weights)
    fused["score"] = smooth(fused["score"], fused["video"], fused["frame"], cfg.smoothing.sigma)
    labels = labels_of(members)
    if labels is not None:
        fused["label"] = labels
    write_csv(fused, output_dir / "fused_scores.csv", float_format="%.9g")
    write_submission(fused, "score", output_dir / "submission.csv")
    console.print(
        f"fused {len(members)} member(s) {weights} over {len(fused)} frames -> "
        f"{output_dir / 'submission.csv'}"
    )
    if labels is None:
        return None
    summary, videos = evaluate(fused)
    write_csv(videos, output_dir / "per_video.csv", float_format="%.6f")
    write_json(
        {
            **summary,
            "weights": weights,
            "members": {
                m.name: {"scores": m.path, "column": m.column, "normalization": m.normalization}
                for m in members
            },
            "smoothing_sigma": cfg.smoothing.sigma,
        },
        output_dir / "metrics.json",
    )
    print_metrics(summary, videos, title="ensemble")
    return float(summary[cfg.objective]) if cfg.get("objective") else None


def _members(cfg: DictConfig) -> list[Member]:
    members = []
    for name, entry in cfg.members.items():
        if not entry or entry.get("scores") in (None, ""):
            continue
        weight = float(cfg.weights.get(name, 1.0))
        norm = entry.get("normalization") or cfg.normalization
        members.append(load_member(str(name), entry.scores, entry.column, weight, norm))
    if not members:
        raise ScoreFileError(
            "no ensemble member has a score file: set members.<name>.scores="
            "<scores.csv or predict run folder>"
        )
    return members
