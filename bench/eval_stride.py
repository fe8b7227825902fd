"""Scoring stride on Ped2: how often a test clip starts, judged by the label-free score.

    python bench/eval_stride.py --model stae [--strides 1 8 16] [--no-record]

For the newest labelled Ped2 run of the model (``bench/ped2.py``), for each stride: the mean
label-free validation score of its best checkpoint with clips every ``stride`` frames (the
pseudo-anomalies of ``conf/callbacks/label_free_validation.yaml``, smoothed with the default
sigma), then ``predict.py data.eval_stride=<stride>`` on the test videos at the default scoring
(inference frames/s, micro / macro AUC, AP). A default stride may only follow the label-free
column.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ped2 import PED2  # noqa: E402
from bench.ped2_ensemble import newest_run  # noqa: E402
from bench.results import record  # noqa: E402
from bench.smoothing import run_pseudo_copies  # noqa: E402
from vad.scoring.pseudo_anomaly import copies_auc  # noqa: E402
from vad.scoring.scorer import Scorer  # noqa: E402

SECTION = "UCSD Ped2: scoring stride (`bench/eval_stride.py`)"
HEADER = (
    "| date | model | eval stride | label-free val AUC | inference fps | micro AUC | macro AUC | "
    "AP | run | command |\n|---|---|---|---|---|---|---|---|---|---|\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="stae")
    parser.add_argument("--strides", nargs="+", type=int, default=[1, 8, 16])
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    run = newest_run(args.model, PED2)
    if run is None:
        sys.exit(f"no labelled Ped2 run of {args.model} under outputs/bench/ (bench/ped2.py)")
    free = label_free(run, args.strides)
    for stride in args.strides:
        metrics = predict(run, stride)
        cells = [
            time.strftime("%Y-%m-%d"),
            args.model,
            str(stride),
            f"{free[stride]:.3f}",
            f"{metrics['inference_fps']:.1f}",
            f"{metrics['micro_auc']:.3f}",
            f"{metrics['macro_auc']:.3f}",
            f"{metrics['ap']:.3f}",
            f"`{run.relative_to(ROOT)}`",
            f"`python bench/eval_stride.py --model {args.model} --strides {stride}`",
        ]
        row = "| " + " | ".join(cells) + " |\n"
        print(HEADER + row, flush=True)
        if not args.no_record:
            record(SECTION, HEADER, row)


def default_sigma() -> float:
    return float(OmegaConf.load(ROOT / "conf" / "scoring" / "default.yaml").smoothing.sigma)


def label_free(run: Path, strides: list[int]) -> dict[int, float]:
    """The mean label-free validation score of the run's best checkpoint at each stride."""
    sigma = default_sigma()
    module, _, kinds = run_pseudo_copies(run)
    column = OmegaConf.load(run / ".hydra" / "config.yaml").scoring.column
    out = {}
    for stride in strides:
        scored = [Scorer(module).score_videos(c, 16, stride) for c in kinds.values()]
        out[stride] = float(np.mean([copies_auc(s, column, sigma) for s in scored]))
    return out


def predict(run: Path, stride: int) -> dict:
    """Metrics of ``predict.py`` on the test videos with clips every ``stride`` frames."""
    out = ROOT / "outputs" / "bench" / "eval_stride" / time.strftime("%Y-%m-%d_%H-%M-%S")
    command = [
        sys.executable,
        "predict.py",
        f"ckpt_path={run}",
        "data=ped2",
        f"data.root={PED2}",
        f"data.eval_stride={stride}",
        "scoring=default",
        f"scoring.smoothing.sigma={default_sigma()}",  # not the run's own (older runs: none)
        "scoring.pixel=false",
        f"hydra.run.dir={out}",
    ]
    print("+", shlex.join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "metrics.json").read_text())


if __name__ == "__main__":
    main()
