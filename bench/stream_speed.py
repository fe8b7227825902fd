"""A whole stream's frames per second and where its time goes, for each model at its preset.

    python bench/stream_speed.py [--models unet stae roadmap joint density] [--videos 2]

Each model trains briefly on Ped2 with its preset (``bench/ped2.py``'s overrides; ``--steps``
steps for the network models, the one-pass fit for density: speed does not depend on how well
a model learned), then ``predict.py ckpt_path=<run> source=<the first --videos Ped2 test
videos> infer.annotate=false`` streams them: decode, resize, flow and motion boxes computed on
the stream, network, score rows. Network models are also exported (``export.py``) and streamed
from ``model.onnx``. Appends one row per model to bench/results.md with the stream's frames/s
and the share of each stage (``infer.json``'s ``seconds_by_stage``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ped2 import ROOTS, preset  # noqa: E402
from bench.results import record  # noqa: E402

SECTION = "Streaming: frames per second and time by stage (`bench/stream_speed.py`)"
HEADER = (
    "**Protocol:** no score is evaluated (speed only, no labels). "
    "`predict.py source=<Ped2 test videos> infer.annotate=false` on 2 CPU cores, end to end "
    "(decode to score rows), with the checkpoint (torch) and its ONNX export; stage shares are "
    "of the torch stream's time.\n\n"
    "| date | model | size | frames | torch fps | ONNX Runtime fps | decode | resize | "
    "flow + boxes | network | rows | command |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)
COMMAND = "`python bench/stream_speed.py`"
NETWORKS = ("unet", "stae", "roadmap", "joint")


def run(command: list[str]) -> None:
    print("+", shlex.join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def train(model: str, root: Path, out: Path, steps: int) -> Path:
    budget = [] if model == "density" else [f"trainer.max_steps={steps}"]
    folder = out / "train"
    run([
        sys.executable, "train.py", *preset(model, "ped2"), f"data.root={root}", *budget,
        "test=false", f"hydra.run.dir={folder}",
    ])  # fmt: skip
    return folder


def stream(ckpt: Path, source: Path, out: Path) -> dict:
    run([
        sys.executable, "predict.py", f"ckpt_path={ckpt}", f"source={source}",
        "infer.annotate=false", f"hydra.run.dir={out}",
    ])  # fmt: skip
    return json.loads((out / "infer.json").read_text())


def test_videos(root: Path, count: int, out: Path) -> Path:
    """A folder holding the first ``count`` Ped2 test videos (links to their frame folders)."""
    folder = out / "source"
    folder.mkdir(parents=True, exist_ok=True)
    for video in sorted((root / "testing" / "frames").iterdir())[:count]:
        link = folder / video.name
        if not link.exists():
            link.symlink_to(video.resolve(), target_is_directory=True)
    return folder


def row(model: str, size: str, ours: dict, theirs: dict | None) -> str:
    stages = ours["seconds_by_stage"]
    total = sum(stages.values()) or 1.0
    share = {k: f"{100 * stages.get(k, 0.0) / total:.0f}%" for k in stages}
    onnx = f"{theirs['frames_per_s']:.0f}" if theirs else "(no graph)"
    cells = [share.get(k, "0%") for k in ("decode", "resize", "flow_boxes", "network", "rows")]
    return (
        f"| {time.strftime('%Y-%m-%d')} | {model} | {size} | {ours['frames']} | "
        f"{ours['frames_per_s']:.0f} | {onnx} | {' | '.join(cells)} | {COMMAND} |\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=[*NETWORKS, "density"])
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    root = ROOTS["ped2"]
    if not (root / "ped2.mat").is_file():
        sys.exit(f"UCSD Ped2 not found at {root} (set VAD_PED2)")
    base = ROOT / "outputs" / "bench" / "stream_speed" / time.strftime("%Y-%m-%d_%H-%M-%S")
    source = test_videos(root, args.videos, base)
    for model in args.models:
        out = base / model
        folder = train(model, root, out, args.steps)
        ours = stream(folder, source, out / "stream_torch")
        theirs = None
        if model in NETWORKS:
            run([sys.executable, "export.py", f"ckpt_path={folder}", f"hydra.run.dir={out / 'x'}"])
            theirs = stream(folder / "model.onnx", source, out / "stream_onnx")
        size = _size(folder)
        line = row(model, size, ours, theirs)
        print(line, end="", flush=True)
        if not args.no_record:
            record(SECTION, HEADER, line)


def _size(folder: Path) -> str:
    """The frame size the run trained at, as its checkpoint stores it (``native`` resolved)."""
    from vad.models.checkpoint import META_KEY, read_checkpoint, resolve_checkpoint

    size = read_checkpoint(resolve_checkpoint(folder))[META_KEY]["data"]["image_size"]
    return "x".join(str(v) for v in size) if isinstance(size, list | tuple) else str(size)


if __name__ == "__main__":
    main()
