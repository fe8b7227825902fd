"""``predict.py`` for a checkpoint or an exported model: ``ckpt_path=<run>/model.onnx`` scores
through ONNX Runtime (``vad.deploy.runtime``) without importing Lightning, streaming
(``source=...``) or on a dataset's test videos (scores, metrics; no visual report)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from vad.data.cache import CachedVideo
from vad.io.atomic import write_json
from vad.io.scores import SCORES_FILE, SCORING_FILE, write_scores
from vad.models.contract import LOWER_IS_ANOMALOUS
from vad.scoring.alignment import check_alignment
from vad.scoring.options import ScoringOptions
from vad.scoring.scorer import Scorer
from vad.tasks.checks import check_clips, check_score_column
from vad.tasks.infer import infer, is_exported
from vad.tasks.instantiate import instantiate_datamodule
from vad.tasks.printing import console, print_config_tree
from vad.tasks.run_settings import check_compatible, model_bound, run_scoring
from vad.tasks.scoring_steps import evaluate_scores, prepare_scoring, write_stats_beside
from vad.tasks.tracking import log_test_results, run_loggers
from vad.utils.console import console_copied_to, quiet_library_noise


def predict_any(cfg: DictConfig) -> float | None:
    """``vad.tasks.predict.predict`` for a checkpoint, ``predict_exported`` for ``*.onnx``."""
    if is_exported(cfg.get("ckpt_path")):
        return predict_exported(cfg)
    from vad.tasks.predict import predict

    return predict(cfg)


def predict_exported(cfg: DictConfig) -> float | None:
    """Score ``cfg.source`` or the test videos with the exported model ``cfg.ckpt_path``."""
    quiet_library_noise()
    output_dir = Path(cfg.paths.output_dir)
    with console_copied_to(output_dir / f"{cfg.task_name}.log"):
        print_config_tree(cfg, output_dir / "config_tree.yaml")
        with run_loggers(cfg) as loggers:
            if cfg.get("source") not in (None, ""):
                infer(cfg, loggers)
                return None
            metrics = score_test_videos(cfg, output_dir)
            log_test_results(loggers, metrics, output_dir)
    value = metrics.get(cfg.get("optimized_metric") or "")
    return float(value) if value is not None else None


def score_test_videos(cfg: DictConfig, output_dir: Path) -> dict[str, Any]:
    """``scores.csv`` of the test videos of ``cfg.data`` (else of the exported run's dataset)
    and, when they are labelled, ``metrics.json`` and ``per_video.csv``."""
    from vad.deploy.runtime import OnnxModel

    path = Path(cfg.ckpt_path)
    model = OnnxModel.load(path, (cfg.get("infer") or {}).get("device", "cpu"))
    trained = model.sidecar["data"]
    data = cfg.get("data")
    data = OmegaConf.create(trained) if data is None else model_bound(data, trained)
    check_compatible(model.sidecar, data, path)
    datamodule = instantiate_datamodule(data, cfg.get("preprocess"), trainer=False)
    scoring = run_scoring(cfg.scoring, model.sidecar.get("scoring"), path)
    options = ScoringOptions.from_config(scoring).for_model(model.contract)
    prepare_scoring(model, options, uses_stats=options.needs_train_stats)
    console.print(f"model {model.sidecar['model']['_target_']} exported to {path}")
    datamodule.configure_clips(model.clip_length, model.modalities)
    videos = datamodule.videos("test")
    batch = int(cfg.get("batch_size") or data.get("eval_batch_size") or data.get("batch_size", 8))
    scores, fps = _scores(model, videos, options, batch, int(data.get("eval_stride", 1)))
    write_scores(scores, output_dir / SCORES_FILE)
    check_alignment(scores, datamodule.split_table("test"), str(output_dir / SCORES_FILE))
    settings = {
        "aggregate": options.aggregate,
        "patch_size": model.patch_size,
        "image_size": list(model.image_size),
        "column": options.column,
        "higher_is_anomalous": options.column not in LOWER_IS_ANOMALOUS,
        "model": model.sidecar["model"]["name"],
        "contract": model.sidecar["contract"],
        "exported": str(path),
    }
    write_json(settings, output_dir / SCORING_FILE)
    write_stats_beside(model, options, output_dir)
    if "label" not in scores.columns:
        return {}
    _, metrics, _ = evaluate_scores(scores, options, output_dir, model.fitted.score_stats)
    metrics["inference_fps"] = fps
    write_json(metrics, output_dir / "metrics.json")
    return metrics


def _scores(
    model: Any, videos: list[CachedVideo], options: ScoringOptions, batch: int, stride: int
) -> tuple[Any, float]:
    """The assembled scores of ``videos`` and frames per second (cache building excluded)."""
    check_clips(videos, model.clip_length)
    scorer = Scorer(model, options.aggregate)
    check_score_column(scorer, videos, options.column)
    start = time.perf_counter()
    scores = scorer.score_videos(videos, batch, stride)
    seconds = time.perf_counter() - start
    fps = len(scores) / seconds if seconds > 0 else float("nan")
    console.print(
        f"scored {len(scores)} frames of {len(videos)} videos in {seconds:.1f} s "
        f"({fps:.1f} frames/s, ONNX Runtime)"
    )
    return scores, fps
