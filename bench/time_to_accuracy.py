"""Test micro AUC against training time and samples: how a user picks a step budget.

    python bench/time_to_accuracy.py --dataset ped1 --model unet [--minutes 1 2 4 8 16]

Trains the model's preset (``experiment=<model> data=<dataset>``, as ``bench/ped2.py``) with
``callbacks.timed_checkpoints`` (a checkpoint when the time spent in training batches reaches
each mark; training stops at the last), scores the test videos with each checkpoint
(``predict.py ckpt_path=<checkpoint>``: the preset's scoring, the model's own column, per-video
min-max, sigma 3) and once more unsmoothed (``scoring=ffp``: FFP's protocol, the one published
peers report), and appends one row per mark to bench/results.md. Time is training-batch time
(validation and data caching excluded) on the machine the run had, shared or not.

Then the label-free validation score of each mark's checkpoint (the callback's pseudo-anomalies
in copies of the held-out normal videos, the run's column and smoothing) goes beside its test
micro AUC in one row: what a user without labels would see, and the mark it would pick.
``--label-free-of <run folder>`` writes that row for a finished run.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ped2 import ROOTS, preset  # noqa: E402
from bench.results import record  # noqa: E402
from bench.smoothing import run_pseudo_copies  # noqa: E402
from vad.models.checkpoint import load_model  # noqa: E402
from vad.scoring.options import ScoringOptions  # noqa: E402
from vad.scoring.pseudo_anomaly import copies_auc  # noqa: E402
from vad.scoring.scorer import Scorer  # noqa: E402

SECTION = "Time to accuracy (`bench/time_to_accuracy.py`)"
HEADER = (
    "**Protocol:** the model's own column, per-video min-max, sigma 3 (the presets' scoring); "
    "test labels: looked at (both datasets are development sets); nothing is tuned on them.\n\n"
    "| date | dataset | model | train min | steps | samples | micro AUC | macro AUC | AP | "
    "micro AUC unsmoothed | command |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
)
FREE_SECTION = "Label-free score along the time-to-accuracy runs (`bench/time_to_accuracy.py`)"
FREE_HEADER = (
    "**Protocol:** label-free val AUC: the mean over the label-free callback's kinds (x2, x3, "
    "pasted) of each mark's checkpoint, the run's column and sigma; test micro AUC as in the "
    "time-to-accuracy rows. *Picks*: the mark with the highest label-free score and its test "
    "AUC. Test labels: looked at (development sets).\n\n"
    "| date | dataset | model | minutes | label-free val AUC | test micro AUC | Spearman | "
    "picks (test AUC) | run | command |\n|---|---|---|---|---|---|---|---|---|---|\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="unet")
    parser.add_argument("--dataset", choices=sorted(ROOTS), default="ped1")
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--label-free-of", type=Path, help="only the label-free row of a run")
    args, overrides = parser.parse_known_args()
    if args.label_free_of is not None:
        run = args.label_free_of.resolve()
        command = f"python bench/time_to_accuracy.py --label-free-of {run.relative_to(ROOT)}"
        emit(label_free_row(run, command), args.no_record, FREE_SECTION, FREE_HEADER)
        return
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
        emit(row, args.no_record)
    emit(label_free_row(run, command), args.no_record, FREE_SECTION, FREE_HEADER)


def emit(row: str, dry: bool, section: str = SECTION, header: str = HEADER) -> None:
    print(row, end="", flush=True)
    if not dry:
        record(section, header, row)


def label_free_row(run: Path, command: str) -> str:
    """The label-free score of each mark's checkpoint beside its test micro AUC (scored)."""
    marks = json.loads((run / "checkpoints" / "timed_checkpoints.json").read_text())["marks"]
    config = OmegaConf.load(run / ".hydra" / "config.yaml")
    options = ScoringOptions.from_config(OmegaConf.to_container(config.scoring, resolve=True))
    first = run / "checkpoints" / marks[0]["checkpoint"]
    _, datamodule, kinds = run_pseudo_copies(run, ckpt=first)  # the copies ignore the weights
    free, test = [], []
    for mark in marks:
        module, _ = load_model(run / "checkpoints" / mark["checkpoint"])
        column = options.for_model(module.contract).column
        scorer, stride = Scorer(module, options.aggregate), datamodule.eval_stride
        scored = [scorer.score_videos(copies, 16, stride) for copies in kinds.values()]
        free.append(float(np.mean([copies_auc(s, column, options.sigma) for s in scored])))
        metrics = run / f"predict_{mark['minutes']:g}min" / "metrics.json"
        test.append(json.loads(metrics.read_text())["micro_auc"])
    rho = spearmanr(free, test).statistic if len(set(free)) > 1 else float("nan")
    best = int(np.argmax(free))
    cells = [
        time.strftime("%Y-%m-%d"), *run.parent.name.split("_", 2)[1:],  # tta_<dataset>_<model>
        " / ".join(f"{m['minutes']:g}" for m in marks), " / ".join(f"{v:.3f}" for v in free),
        " / ".join(f"{v:.3f}" for v in test), f"{rho:+.2f}",
        f"{marks[best]['minutes']:g} min ({test[best]:.3f})", f"`{run.relative_to(ROOT)}`",
        f"`{command}`",
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |\n"


def score(ckpt: Path, out: Path, *overrides: str) -> dict:
    """Score the test videos with one checkpoint; its ``metrics.json``."""
    predict = [sys.executable, "predict.py", f"ckpt_path={ckpt}", f"hydra.run.dir={out}"]
    predict += overrides
    print("+", shlex.join(predict), flush=True)
    subprocess.run(predict, cwd=ROOT, check=True)
    return json.loads((out / "metrics.json").read_text())


if __name__ == "__main__":
    main()
