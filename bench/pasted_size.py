"""Does sizing the pasted object from the footage make the label-free score rank runs better?

    python bench/pasted_size.py --dataset ped1 --runs outputs/bench/ped1_<model>/<run> ...

The label-free score's pasted pseudo-anomaly cuts a square patch of ``size`` (0.08 of the frame's
height and width by default) around a moving object of a held-out normal video. With ``size:
auto`` the patch is the video's median motion box instead (height and width from the footage:
a pedestrian is tall and narrow, and far smaller on a receding walkway). For each run the best
checkpoint scores the pseudo-anomaly copies of its validation videos both ways (its own
column, sigma 3, the callback's other settings); beside them its test micro AUC from
scores.csv. The last row of a dataset is the Spearman correlation of each label-free score with
the test AUC over the runs. Test labels: the correlation is with them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from bench.smoothing import run_label, run_pseudo_copies  # noqa: E402
from vad.io.scores import read_scores  # noqa: E402
from vad.scoring.metrics import evaluate  # noqa: E402
from vad.scoring.options import ScoringOptions  # noqa: E402
from vad.scoring.pipeline import score_frame  # noqa: E402
from vad.scoring.pseudo_anomaly import copies_auc  # noqa: E402
from vad.scoring.scorer import Scorer  # noqa: E402

SECTION = "Label-free score with the pasted object sized from the footage (`bench/pasted_size.py`)"
HEADER = (
    "**Protocol:** each run's own column, per-video min-max, sigma 3, its best checkpoint; "
    "label-free = the mean over the kinds x2 / x3 / pasted (pasted kind in brackets). Test "
    "labels: the Spearman rows correlate with them.\n\n"
    "| date | dataset | run | label-free, pasted 0.08 (pasted kind) | label-free, pasted auto "
    "(pasted kind) | test micro AUC | command |\n|---|---|---|---|---|---|---|\n"
)
SIZES = (0.08, "auto")


def run_scoring(run: Path) -> ScoringOptions:
    """The scoring options the run was trained with."""
    scoring = OmegaConf.load(run / ".hydra" / "config.yaml").scoring
    return ScoringOptions.from_config(OmegaConf.to_container(scoring, resolve=True))


def label_free(run: Path, size: float | str, sigma: float) -> tuple[float, float, str]:
    """(mean over the kinds, the pasted kind, the column) of the run's column with the pasted
    ``size``."""
    options = run_scoring(run)
    module, datamodule, kinds = run_pseudo_copies(run, {"size": size})
    scorer = Scorer(module, options.aggregate)
    column = options.column or module.contract.score_column
    aucs = {
        kind: copies_auc(scorer.score_videos(copies, 16, datamodule.eval_stride), column, sigma)
        for kind, copies in kinds.items()
    }
    return float(np.mean(list(aucs.values()))), aucs.get("pasted", float("nan")), column


def test_auc(run: Path, column: str, sigma: float) -> float:
    """The test micro AUC of ``column`` in the run's scores.csv, smoothed with ``sigma``."""
    options = ScoringOptions(column, run_scoring(run).normalization, sigma)
    frame = score_frame(read_scores(run / "scores.csv"), options)
    return float(evaluate(frame)[0]["micro_auc"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--runs", nargs="+", type=Path, required=True)
    parser.add_argument("--sigma", type=float, default=3.0)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    date, rows, table = time.strftime("%Y-%m-%d"), [], []
    names = " ".join(str(r.resolve().relative_to(ROOT)) for r in args.runs)
    command = f"`python bench/pasted_size.py --dataset {args.dataset} --runs {names}`"
    for run in (r.resolve() for r in args.runs):
        free = [label_free(run, size, args.sigma) for size in SIZES]
        test = test_auc(run, free[0][2], args.sigma)
        table.append((free[0][0], free[1][0], test))
        cells = [f"{mean:.3f} ({pasted:.3f})" for mean, pasted, _ in free]
        name = f"{run_label(run)}: `{run.relative_to(ROOT)}`"
        rows.append(f"| {date} | {args.dataset} | {name} | {' | '.join(cells)} | {test:.3f} | ")
        rows[-1] += f"{command} |\n"
        print(rows[-1], end="", flush=True)
    fixed, auto, test = (list(c) for c in zip(*table, strict=True))
    rho = [spearmanr(free, test).statistic for free in (fixed, auto)]
    rows.append(
        f"| {date} | {args.dataset} | Spearman with test, {len(table)} runs | {rho[0]:+.2f} | "
        f"{rho[1]:+.2f} | - | {command} |\n"
    )
    print(rows[-1], end="")
    if not args.no_record:
        record(SECTION, HEADER, "".join(rows))


if __name__ == "__main__":
    main()
