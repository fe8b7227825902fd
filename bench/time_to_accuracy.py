"""Test micro AUC against training time and samples: how a user picks a step budget.

    python bench/time_to_accuracy.py --dataset ped1 --model unet [--minutes 1 2 4 8 16]

Trains the model's preset (``experiment=<model> data=<dataset>``, as ``bench/ped2.py``) with
``callbacks.timed_checkpoints`` (a checkpoint when the time spent in training batches reaches
each mark; training stops at the last), scores the test videos with each checkpoint
(``predict.py ckpt_path=<checkpoint>``: the preset's scoring, the model's own column, per-video
min-max, sigma 3) and once more unsmoothed (``scoring=ffp``: FFP's protocol, the one published
peers report), and appends one row per mark to bench/results.md. Time is training-batch time
(validation and data caching excluded) on the machine the run had, shared or not.
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

SECTION = "Time to accuracy (`bench/time_to_accuracy.py`)"
HEADER = (
    "**Protocol:** the model's own column, per-video min-max, sigma 3 (the presets' scoring); "
    "test labels: looked at (both datasets are development sets); nothing is tuned on them.\n\n"
    "| date | dataset | model | train min | steps | samples | micro AUC | macro AUC | AP | "
    "micro AUC unsmoothed | command |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="unet")
    parser.add_argument("--dataset", choices=sorted(ROOTS), default="ped1")
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--no-record", action="store_true")
    args, overrides = parser.parse_known_args()
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    run = ROOT / "outputs" / "bench" / f"tta_{args.dataset}_{args.model}" / stamp
    marks = "[" + ",".join(f"{m:g}" for m in args.minutes) + "]"
    train = [
        sys.executable, "train.py", *preset(args.model, args.dataset),
        f"data.root={ROOTS[args.dataset]}", f"hydra.run.dir={run}",
        "+callbacks.timed_checkpoints._target_=vad.callbacks.TimedCheckpoints",
        f"+callbacks.timed_checkpoints.dirpath={run}/checkpoints",
        f"+callbacks.timed_checkpoints.minutes={marks}",
        "trainer.max_steps=1000000", "test=false", "callbacks.rich_progress_bar=null",
        "trainer.enable_progress_bar=false", *overrides,
    ]  # fmt: skip
    print("+", shlex.join(train), flush=True)
    subprocess.run(train, cwd=ROOT, check=True)
    saved = json.loads((run / "checkpoints" / "timed_checkpoints.json").read_text())["marks"]
    command = shlex.join(
        ["python", "bench/time_to_accuracy.py", "--dataset", args.dataset, "--model", args.model,
         "--minutes", *[f"{m:g}" for m in args.minutes], *overrides]
    )  # fmt: skip
    for mark in saved:
        ckpt = run / "checkpoints" / mark["checkpoint"]
        test = score(ckpt, run / f"predict_{mark['minutes']:g}min")
        unsmoothed = score(ckpt, run / f"predict_{mark['minutes']:g}min_ffp", "scoring=ffp")
        row = (
            f"| {stamp[:10]} | {args.dataset} | {args.model} | {mark['minutes']:g} | "
            f"{mark['step']} | {mark['samples']} | {test['micro_auc']:.3f} | "
            f"{test['macro_auc']:.3f} | {test['ap']:.3f} | {unsmoothed['micro_auc']:.3f} | "
            f"`{command}` |\n"
        )
        print(row, end="", flush=True)
        if not args.no_record:
            record(SECTION, HEADER, row)


def score(ckpt: Path, out: Path, *overrides: str) -> dict:
    """Score the test videos with one checkpoint; its ``metrics.json``."""
    predict = [sys.executable, "predict.py", f"ckpt_path={ckpt}", f"hydra.run.dir={out}"]
    predict += overrides
    print("+", shlex.join(predict), flush=True)
    subprocess.run(predict, cwd=ROOT, check=True)
    return json.loads((out / "metrics.json").read_text())


if __name__ == "__main__":
    main()
