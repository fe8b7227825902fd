"""Ensemble normalisation and fusion judged by the label-free score, beside their test AUCs.

    python bench/ensemble_label_free.py [--models unet stae roadmap joint density]
        [--run MODEL=RUN ...] [--variants 'normalization=minmax fusion=mean' ...] [--no-record]
    python bench/ensemble_label_free.py --subsets   # which members, chosen by the label-free score
    python bench/ensemble_label_free.py --dataset ped1 --subsets --run unet=<run> ...

Every member (the newest labelled Ped2 run of each model, as ``bench/ped2_ensemble.py``) scores
the *same* label-free pseudo-anomaly copies of the held-out normal validation videos (segments
placed for the longest member clip, settings of ``conf/callbacks/label_free_validation.yaml``);
``ensemble.py`` fuses these copy scores with equal weights for each variant exactly as it fuses
test scores, and the fused score's micro AUC at finding the pseudo-anomalies is the variant's
label-free score (the mean over kinds). Beside it, the same variant on the test videos. Only the
label-free columns may choose the ensemble's defaults.

``--subsets`` fuses every subset of two or more members (equal weights, the first variant) on the
copies and on the test videos, and writes one row: the subset the label-free score picks (ties
within 0.001 go to the larger subset, then the earlier one), how many subsets tie with it, its
test AUC beside the all-member ensemble's and the best member's. Every subset's figures go to
``subsets.csv`` in the run folder. ``--dataset ped1``: every member named with ``--run``, the
rows under the dataset's own section titles.
"""

from __future__ import annotations

import argparse
import itertools
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ped2 import PED2  # noqa: E402
from bench.ped2_ensemble import MODELS, ensemble_command, newest_run  # noqa: E402
from bench.results import record  # noqa: E402
from bench.smoothing import run_pseudo_copies  # noqa: E402
from vad.io.scores import write_scores  # noqa: E402
from vad.models.checkpoint import load_model  # noqa: E402
from vad.scoring.metrics import evaluate  # noqa: E402
from vad.scoring.scorer import Scorer  # noqa: E402

VARIANTS = [
    f"normalization={n} fusion={f}"
    for n in ("minmax", "zscore", "rank", "train_zscore")
    for f in ("mean", "rank_mean")
]
TITLES = {"ped1": "UCSD Ped1", "ped2": "UCSD Ped2"}
SECTION = "{title}: ensemble fusion by the label-free score (`bench/ensemble_label_free.py`)"
HEADER = (
    "| date | members | variant | label-free val AUC (mean) | x2 / x3 / pasted | "
    "test micro AUC | test macro AUC | test AP | command |\n|---|---|---|---|---|---|---|---|---|\n"
)

SUBSETS_SECTION = (
    "{title}: ensemble members chosen by the label-free score "
    "(`bench/ensemble_label_free.py --subsets`)"
)
SUBSETS_HEADER = (
    "**Protocol:** members' own columns, the variant's normalisation and fusion, equal weights, "
    "the fused score smoothed with Gaussian sigma 3; label-free val AUC: the mean over the kinds "
    "x2 / x3 / pasted of the members' scores of the same copies of the held-out normal videos. "
    "Test labels: the test columns only; the pick never saw them.\n\n"
    "| date | members | variant | pick (label-free val AUC) | subsets within 0.001 | "
    "pick's test micro AUC | all members' test micro AUC | best member | test micro AUC over "
    "subsets | command |\n|---|---|---|---|---|---|---|---|---|---|\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS[:5]), choices=MODELS)
    parser.add_argument("--run", action="append", default=[], metavar="MODEL=RUN")
    parser.add_argument("--variants", nargs="+", default=VARIANTS)
    parser.add_argument("--subsets", action="store_true", help="choose members by the score")
    parser.add_argument("--dataset", choices=sorted(TITLES), default="ped2")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    chosen = dict(item.split("=", 1) for item in args.run)
    if args.dataset != "ped2" and set(args.models) - set(chosen):
        sys.exit(f"--dataset {args.dataset}: name the run of every member with --run MODEL=RUN")
    title = TITLES[args.dataset]
    runs = {}
    for model in args.models:
        run = (ROOT / chosen[model]).resolve() if model in chosen else newest_run(model, PED2)
        if run is None:
            sys.exit(f"no labelled Ped2 run of {model} under outputs/bench/ (bench/ped2.py)")
        runs[model] = run
    out = ROOT / "outputs" / "bench" / "ensemble_label_free" / time.strftime("%Y-%m-%d_%H-%M-%S")
    copies = write_copy_scores(runs, out / "copies")
    command = "python bench/ensemble_label_free.py"
    command += f" --dataset {args.dataset}" if args.dataset != "ped2" else ""
    command += " --models " + " ".join(runs)
    command += "".join(f" --run {m}={r}" for m, r in chosen.items())
    if args.subsets:
        row = subsets_row(runs, copies, args.variants[0], out, f"`{command} --subsets`")
        print(SUBSETS_HEADER + row, flush=True)
        if not args.no_record:
            record(SUBSETS_SECTION.format(title=title), SUBSETS_HEADER, row)
        return
    for variant in args.variants:
        free = fused(runs, copies, variant, out / "label_free" / _slug(variant))
        test = fused(runs, None, variant, out / "test" / _slug(variant))
        kinds = {k: _auc(free[free["video"].str.endswith(k)]) for k in ("x2", "x3", "pasted")}
        summary = evaluate(test)[0]
        cells = [
            time.strftime("%Y-%m-%d"),
            "+".join(runs),
            f"`{variant}`",
            f"{np.mean(list(kinds.values())):.3f}",
            " / ".join(f"{v:.3f}" for v in kinds.values()),
            f"{summary['micro_auc']:.3f}",
            f"{summary['macro_auc']:.3f}",
            f"{summary['ap']:.3f}",
            f"`{command} --variants '{variant}'`",
        ]
        row = "| " + " | ".join(cells) + " |\n"
        print(HEADER + row, flush=True)
        if not args.no_record:
            record(SECTION.format(title=title), HEADER, row)


def subsets_row(
    runs: dict[str, Path], copies: dict[str, Path], variant: str, out: Path, command: str
) -> str:
    """Score every subset of >= 2 members on the copies and the test videos (``subsets.csv``);
    the row of the subset the label-free score picks."""
    names, rows = list(runs), []
    for size in range(len(names), 1, -1):
        for subset in itertools.combinations(names, size):
            slug = "+".join(subset)
            members = {m: runs[m] for m in subset}
            free = fused(members, {m: copies[m] for m in subset}, variant, out / "free" / slug)
            test = fused(members, None, variant, out / "test" / slug)
            kinds = [_auc(free[free["video"].str.endswith(k)]) for k in ("x2", "x3", "pasted")]
            rows.append({"members": slug, "label_free": float(np.mean(kinds)), "test": _auc(test)})
    table = pd.DataFrame(rows)
    table.to_csv(out / "subsets.csv", index=False)
    best = table["label_free"].max()
    ties = table[table["label_free"] >= best - 0.001]
    pick = ties.iloc[0]  # rows run from the largest subset down
    alone = {m: _auc(fused({m: runs[m]}, None, variant, out / "alone" / m)) for m in names}
    top = max(alone, key=alone.get)
    cells = [
        time.strftime("%Y-%m-%d"),
        "+".join(names),
        f"`{variant}`",
        f"{pick['members']} ({pick['label_free']:.3f})",
        f"{len(ties)} of {len(table)}",
        f"{pick['test']:.3f}",
        f"{table.iloc[0]['test']:.3f}",
        f"{top} {alone[top]:.3f}",
        f"{table['test'].min():.3f}-{table['test'].max():.3f}",
        command,
    ]
    return "| " + " | ".join(cells) + " |\n"


def write_copy_scores(runs: dict[str, Path], out: Path) -> dict[str, Path]:
    """Each member's scores of the same pseudo-anomaly copies, as ``out/<model>/scores.csv``."""
    models = [load_model(run / "checkpoints" / "best.ckpt")[0] for run in runs.values()]
    length = max(model.clip_length for model in models)
    written = {}
    for model, run in runs.items():
        scoring = OmegaConf.load(run / ".hydra" / "config.yaml").scoring
        module, datamodule, kinds = run_pseudo_copies(run, clip_length=length)
        scorer = Scorer(module, scoring.aggregate)
        tables = [scorer.score_videos(c, 16, datamodule.eval_stride) for c in kinds.values()]
        table = pd.concat(tables, ignore_index=True)
        written[model] = write_scores(table, out / model / "scores.csv")
        print(f"{model}: scored {sum(len(c) for c in kinds.values())} copies", flush=True)
    return written


def fused(
    runs: dict[str, Path], scores: dict[str, Path] | None, variant: str, out: Path
) -> pd.DataFrame:
    """The equal-weight fusion (``ensemble.py``, ``variant`` overrides) of the members' ``scores``
    (None: the runs' test scores; ``runs`` give columns and stored statistics): video, frame,
    label, score."""
    command = [*ensemble_command(runs, out, scores), "report=false", *shlex.split(variant)]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    frame = pd.read_csv(out / "fused_scores.csv", dtype={"video": str})
    return frame[["video", "frame", "label", "score"]]


def _slug(variant: str) -> str:
    return variant.replace("=", "-").replace(" ", "_")


def _auc(frame: pd.DataFrame) -> float:
    return float(evaluate(frame)[0]["micro_auc"]) if len(frame) else float("nan")


if __name__ == "__main__":
    main()
