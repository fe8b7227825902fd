"""Frames per second of a model's network and scoring: torch against ONNX Runtime, on CPU.

    python bench/deploy_speed.py [--models unet stae roadmap joint] [--frames 240] [--threads 2]

Each model is built from its preset (``experiment=<model> data=ped2``: the size and settings it
trains and scores at on Ped1 and Ped2), exported (``vad.deploy.onnx_export``) and scores the same
synthetic video with the one scorer (``Scorer.score_videos``: clips batched as the preset's
evaluation batch, rows assembled per frame), once through torch and once through ONNX Runtime.
Decoding, flow and caching are not part of it (``bench/stream_speed.py`` times a whole stream
by stage). The weights are untrained: speed does not depend on them.
Appends one row per model to bench/results.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402

SECTION = "Deployed inference: torch against ONNX Runtime (`bench/deploy_speed.py`)"
HEADER = (
    "**Protocol:** no score is evaluated (speed only, untrained weights, no labels). "
    "Network and scoring only (no decoding, flow or cache), one synthetic video scored with the "
    "preset's evaluation batch; frames/s are output frames; best of the repeats.\n\n"
    "| date | model | size | batch | threads | torch fps | ONNX Runtime fps | ONNX / torch | "
    "command |\n|---|---|---|---|---|---|---|---|---|\n"
)
COMMAND = "`python bench/deploy_speed.py`"


def preset_model(name: str):
    """The model of ``experiment=<name> data=ped2`` (untrained) and its evaluation batch."""
    import hydra
    from hydra import compose, initialize_config_dir

    overrides = [f"experiment={name}", "data=ped2", "data.root=/unused"]
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides)
    model = hydra.utils.instantiate(cfg.model).eval()
    if hasattr(model, "flow_scale"):
        model.flow_scale.fill_(1.0)
    batch = int(cfg.data.get("eval_batch_size") or cfg.data.batch_size)
    return model, batch, {"model": {"_target_": cfg.model._target_}, "data": {}}


def video(model, frames: int):
    from vad.data.clips import memory_video

    rng = np.random.default_rng(0)
    height, width = model.image_size
    arrays = {"frames": rng.integers(0, 256, (frames, height, width, model.channels), np.uint8)}
    if "flow" in model.modalities:
        arrays["flow"] = rng.normal(0, 1, (frames, height, width, 2)).astype(np.float16)
    return memory_video("bench", arrays, split="test")


def frames_per_second(model, clip_video, batch: int, repeats: int) -> float:
    from vad.scoring.scorer import Scorer

    scorer, best = Scorer(model), 0.0
    scorer.score_videos([clip_video], batch)  # warm-up (allocations, ORT's first run)
    for _ in range(repeats):
        start = time.perf_counter()
        rows = scorer.score_videos([clip_video], batch)
        best = max(best, len(rows) / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["unet", "stae", "roadmap", "joint"])
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch and ONNX Runtime threads")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    from vad.deploy.onnx_export import export_onnx
    from vad.deploy.runtime import OnnxModel, inference_session

    torch.set_num_threads(args.threads)
    rows = []
    for name in args.models:
        model, batch, meta = preset_model(name)
        clips = video(model, args.frames)
        with tempfile.TemporaryDirectory() as tmp:
            export_onnx(model, meta, Path(tmp) / "model.onnx")
            deployed = OnnxModel.load(Path(tmp) / "model.onnx")
            deployed.session = inference_session(deployed.path, threads=args.threads)
            ours = frames_per_second(model, clips, batch, args.repeats)
            theirs = frames_per_second(deployed, clips, batch, args.repeats)
        size = "x".join(str(v) for v in model.image_size)
        row = (
            f"| {time.strftime('%Y-%m-%d')} | {name} | {size} | {batch} | {args.threads} | "
            f"{ours:.0f} | {theirs:.0f} | {theirs / ours:.2f} | {COMMAND} |\n"
        )
        print(row, end="", flush=True)
        rows.append(row)
    if not args.no_record:
        record(SECTION, HEADER, "".join(rows))


if __name__ == "__main__":
    main()
