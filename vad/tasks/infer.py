"""Inference on any footage: ``predict.py source=<video file | frame folder | video folder |
camera index | stream URL>``.

Every frame is scored with the checkpoint's model as it is decoded (``vad.inference``), so
memory stays bounded for hour-long videos; no frame cache is built. Flow and motion boxes are
computed on the stream with the checkpoint's data settings, so every model streams.
Writes ``scores.csv`` (the raw columns, ``filled``, the online ``score`` and ``alarm``),
``score_curve.png`` with one curve per video under ``curves/``, ``annotated/<video>.mp4``
(error heatmap and score bar, red over the threshold) and ``infer.json`` (frames, alarms,
throughput).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf

from vad.data.cache import resize_frame
from vad.data.stages import Frame, FrameStage
from vad.inference.alarm import AlarmScore
from vad.inference.annotate import StreamAnnotator
from vad.inference.engine import StreamScorer, plain_video
from vad.inference.stage_clock import StageClock
from vad.inference.stream_sources import StreamSource, list_sources
from vad.io.atomic import write_json
from vad.io.scores import write_scores
from vad.scoring.assemble import assemble_scores
from vad.scoring.options import ScoringOptions
from vad.tasks.instantiate import instantiate_datamodule
from vad.tasks.printing import console
from vad.tasks.scoring_steps import prepare_scoring
from vad.tasks.stream_report import stream_summary, write_curves
from vad.tasks.tracking import log_run_results
from vad.utils.console import progress
from vad.visualization.figures import safe_name

if TYPE_CHECKING:  # or an exported model (vad.deploy.runtime.OnnxModel)
    from vad.models.base import VADModule

log = logging.getLogger(__name__)
DEFAULT_FPS = 25.0


@dataclass(frozen=True)
class InferSettings:
    """``conf/predict.yaml`` ``infer`` block."""

    annotate: bool = True
    threshold: float | None = None
    threshold_quantile: float = 0.999
    fps: float | None = None
    video_format: str = "mp4"
    heatmap_alpha: float = 0.6
    heatmap_scale: float | None = None
    device: str = "auto"

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> InferSettings:
        given = OmegaConf.to_container(cfg, resolve=True) if OmegaConf.is_config(cfg) else cfg
        return cls(**(given or {}))

    def torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


@dataclass
class StreamContext:
    """What every video of a run is scored with."""

    model: VADModule
    alarm: AlarmScore
    settings: InferSettings
    stages: Sequence[FrameStage]
    data: Mapping[str, Any]
    batch_size: int
    aggregate: str
    output_dir: Path
    clock: StageClock = field(default_factory=StageClock)


def infer(cfg: DictConfig, loggers: Sequence[Any] = ()) -> dict[str, Any]:
    """Score ``cfg.source`` with ``cfg.ckpt_path``; returns the run summary (``infer.json``)."""
    output_dir = Path(cfg.paths.output_dir)
    settings = InferSettings.from_config(cfg.get("infer"))
    sources = list_sources(cfg.source)
    model, meta, ckpt = _load(cfg, settings)
    options = ScoringOptions.from_config(cfg.scoring).for_model(model.contract)
    alarm = AlarmScore.build(
        options, model.fitted.score_stats, settings.threshold, settings.threshold_quantile, ckpt
    )
    prepare_scoring(model, options, settings.threshold is None or options.needs_train_stats)
    model.to(settings.torch_device()).eval()
    data = meta["data"]
    context = StreamContext(
        model,
        alarm,
        settings,
        _fitted_stages(cfg, data),
        data,
        int(cfg.get("batch_size") or data.get("eval_batch_size") or data.get("batch_size", 8)),
        options.aggregate,
        output_dir,
    )
    console.print(f"model {meta['model']['_target_']} from {ckpt}; alarm: {alarm.describe()}")
    start = time.perf_counter()
    streamed = progress(sources, len(sources), "streaming")
    per_video = [score_stream(source, context) for source in streamed]
    seconds = time.perf_counter() - start
    context.clock.exclusive("preprocess", "decode")
    scores = _final_scores(model, alarm, per_video)
    write_scores(scores, output_dir / "scores.csv")
    figures = write_curves(scores, alarm.threshold, output_dir)
    annotated = {s.video: _annotated_path(context, s.video) for s in sources}
    stages = context.clock.seconds
    summary = stream_summary(scores, sources, alarm, seconds, annotated, stages)
    write_json(summary, output_dir / "infer.json")
    console.print(
        f"scored {summary['frames']} frames of {len(sources)} video(s) in {seconds:.1f} s "
        f"({summary['frames_per_s']:.1f} frames/s) -> {output_dir / 'scores.csv'}"
    )
    console.print("seconds by stage: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    log_run_results(loggers, summary, figures)
    return summary


def _load(cfg: DictConfig, settings: InferSettings) -> tuple[VADModule, dict[str, Any], Path]:
    """The model of ``cfg.ckpt_path`` with its training statistics when the alarm or the
    normalisation needs them: a checkpoint (statistics fitted and stored if missing) or an
    exported ``model.onnx`` (its sidecar's; Lightning is not imported)."""
    options = ScoringOptions.from_config(cfg.scoring)
    if is_exported(cfg.ckpt_path):
        from vad.deploy.runtime import OnnxModel

        path = Path(cfg.ckpt_path)
        model = OnnxModel.load(path, settings.device)
        return model, {"data": model.sidecar["data"], "model": model.sidecar["model"]}, path
    from vad.models.checkpoint import load_model, resolve_checkpoint
    from vad.tasks.score import ensure_score_stats

    ckpt = resolve_checkpoint(cfg.ckpt_path)
    model, meta = load_model(ckpt)
    options = options.for_model(model.contract)
    uses_stats = settings.threshold is None or options.needs_train_stats
    ensure_score_stats(cfg, model, meta, ckpt, uses_stats)
    return model, meta, ckpt


def is_exported(path: Any) -> bool:
    """Whether ``ckpt_path`` names an exported model (``model.onnx``)."""
    return str(path).endswith(".onnx")


def score_stream(source: StreamSource, ctx: StreamContext) -> pd.DataFrame:
    """The assembled scores of one video; its annotated copy is written on the way."""
    height, width = _size(ctx.data["image_size"])
    channels = int(ctx.data["channels"])
    scorer = StreamScorer(
        ctx.model,
        source.video,
        ctx.batch_size,
        int(ctx.data.get("eval_stride", 1)),
        ctx.aggregate,
        ctx.data.get("flow"),
        ctx.data.get("regions"),
        ctx.clock,
    )
    source_ids: list[int] = []
    notes: dict[int, dict] = {}
    natives: dict[int, np.ndarray] | None = {} if scorer.modalities.native else None
    annotator = StreamAnnotator(
        _annotated_path(ctx, source.video),
        ctx.settings.fps or source.fps or DEFAULT_FPS,
        ctx.alarm,
        ctx.model.finalize_scores,
        ctx.settings.heatmap_alpha,
        ctx.settings.heatmap_scale,
    )
    clock, resize = ctx.clock, ctx.data.get("resize", "area")
    with annotator:
        decoded = _decoded(source, channels, source_ids, annotator.source_ids, natives)
        staged = _staged(clock.timed(decoded, "decode"), source.video, ctx.stages)
        for frame in clock.timed(staged, "preprocess"):
            if frame.info:
                notes[frame.id] = frame.info
            with clock.stage("resize"):
                small = resize_frame(frame.image, height, width, channels, resize)
            done = scorer.push(frame.id, small, frame.image, _native(natives, frame.id))
            with clock.stage("annotate"):
                annotator.write(done, scorer.last_chunk)
        done = scorer.finish()
        with clock.stage("annotate"):
            annotator.write(done, scorer.last_chunk)
    info = pd.DataFrame.from_dict(notes, orient="index").reindex(source_ids)
    video = plain_video(source.video, source.location, source_ids, info)
    return assemble_scores(scorer.rows.frame(), [video], ctx.aggregate)


def _decoded(
    source: StreamSource,
    channels: int,
    source_ids: list[int],
    id_set: set[int],
    natives: dict[int, np.ndarray] | None,
) -> Iterator[Frame]:
    """The source's frames; ids are recorded, and the decoded images in ``natives`` (the
    source's frames for native motion boxes, taken back by ``_native``) unless it is None."""
    for frame_id, image in source.frames(channels):
        source_ids.append(int(frame_id))
        id_set.add(int(frame_id))
        if natives is not None:
            natives[int(frame_id)] = image
        yield Frame(int(frame_id), image)


def _native(natives: dict[int, np.ndarray] | None, frame_id: int) -> np.ndarray | None:
    """The source's frame ``frame_id`` (None: the source lacks it); frames before it that the
    stages dropped are forgotten, so only the frames a stage holds back are kept."""
    if natives is None:
        return None
    image = natives.pop(frame_id, None)
    for stale in [i for i in natives if i < frame_id]:
        del natives[stale]
    return image


def _staged(stream: Iterator[Frame], video: str, stages: Sequence[FrameStage]) -> Iterator[Frame]:
    for stage in stages:
        if stage.applies_to("test"):
            stream = stage(stream, video)
    return stream


def _final_scores(
    model: VADModule, alarm: AlarmScore, per_video: list[pd.DataFrame]
) -> pd.DataFrame:
    scores = model.finalize_scores(pd.concat(per_video, ignore_index=True))
    scores["score"] = alarm.scores(scores)
    scored = scores["filled"] == 0 if "filled" in scores else True  # warm-up frames: no alarm
    scores["alarm"] = ((scores["score"] > alarm.threshold) & scored).astype("uint8")
    return scores


def _fitted_stages(cfg: DictConfig, data: Mapping[str, Any]) -> list[FrameStage]:
    """The preprocessing stages of ``cfg.preprocess``, fitted on the checkpoint's training data
    as the frame cache fits them."""
    preprocess = cfg.get("preprocess")
    if not any(OmegaConf.is_dict(v) and "_target_" in v for v in (preprocess or {}).values()):
        return []
    datamodule = instantiate_datamodule(OmegaConf.create(dict(data)), preprocess, trainer=False)
    datamodule.cache.fit_stages(datamodule.table[datamodule.table["split"] == "train"])
    return datamodule.cache.stages


def _annotated_path(ctx: StreamContext, video: str) -> Path | None:
    if not ctx.settings.annotate:
        return None
    suffix = str(ctx.settings.video_format).lstrip(".")
    return ctx.output_dir / "annotated" / f"{safe_name(video)}.{suffix}"


def _size(image_size: Any) -> tuple[int, int]:
    if isinstance(image_size, int):
        return image_size, image_size
    height, width = (int(v) for v in image_size)
    return height, width
