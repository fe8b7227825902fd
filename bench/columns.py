"""Each score column of a Ped2 run, judged by the label-free validation score.

    python bench/columns.py --runs outputs/bench/ped2_<model>/<run> ... [--sigma 3] [--no-record]
    python bench/columns.py --runs ... --decoy-speed 0.003   # pasted kind with a walking decoy
    python bench/columns.py --runs ... --pasted-speed 0.006  # a slower pasted object (2x walking)
    python bench/columns.py --runs ... --clip-length 32      # the same segments for every run

A model writes several score columns (whole-frame error, worst patch, flow error, their
combination, per-location z-scores...); its config names one (``scoring.column``). For each run,
the best checkpoint scores the label-free pseudo-anomalies of its held-out normal validation
videos (the settings of ``conf/callbacks/label_free_validation.yaml``) once, and every column is
judged by the mean label-free AUC over the kinds, smoothed with ``--sigma`` as test scores are.
Beside it, the test micro AUC of the same column in the run's scores.csv. A default column may
only follow the label-free figures; the test column shows what that choice does.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from bench.smoothing import KINDS, run_label, run_pseudo_copies  # noqa: E402
from vad.io.scores import read_scores  # noqa: E402
from vad.scoring.metrics import evaluate  # noqa: E402
from vad.scoring.options import ScoringOptions  # noqa: E402
from vad.scoring.pipeline import score_frame  # noqa: E402
from vad.scoring.pseudo_anomaly import copies_auc  # noqa: E402
from vad.scoring.scorer import Scorer  # noqa: E402

SKIP = {"video", "frame", "label", "filled"}
SECTION = "UCSD Ped2: score columns by the label-free score (`bench/columns.py`)"
HEADER = (
    "| date | run | column | sigma | label-free val AUC (mean) | x2 / x3 / pasted | "
    "test micro AUC | command |\n|---|---|---|---|---|---|---|---|\n"
)

#: the pasted-kind settings a row names, as its option is spelled
NAMES = {"decoy_speed": "decoy-speed", "speed": "pasted-speed"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", type=Path, required=True)
    parser.add_argument("--sigma", type=float, default=3.0)
    parser.add_argument(
        "--decoy-speed", type=float, help="pasted kind: a decoy at this pace, labelled normal"
    )
    parser.add_argument(
        "--pasted-speed", type=float, help="pasted kind: the object's speed, frame widths a frame"
    )
    parser.add_argument(
        "--clip-length",
        type=int,
        help="place the segments for this clip length (runs of models with different clip "
        "lengths are only comparable on the same copies)",
    )
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    for run in args.runs:
        pasted = {"decoy_speed": args.decoy_speed, "speed": args.pasted_speed}
        pasted = {key: value for key, value in pasted.items() if value is not None}
        rows = column_rows(run.resolve(), args.sigma, pasted, args.clip_length)
        print(HEADER + rows, flush=True)
        if not args.no_record:
            record(SECTION, HEADER, rows)


def column_rows(
    run: Path, sigma: float, pasted: dict | None = None, clip_length: int | None = None
) -> str:
    """One table row per score column of ``run`` (the pasted kind's settings changed by
    ``pasted``: ``speed``, ``decoy_speed``; segments placed for ``clip_length``)."""
    scoring = OmegaConf.load(run / ".hydra" / "config.yaml").scoring
    options = ScoringOptions.from_config(OmegaConf.to_container(scoring, resolve=True))
    pasted = pasted or {}
    module, datamodule, kinds = run_pseudo_copies(run, pasted, clip_length)
    scorer = Scorer(module, options.aggregate)
    scored = {k: scorer.score_videos(c, 16, datamodule.eval_stride) for k, c in kinds.items()}
    test = read_scores(run / "scores.csv")
    columns = [c for c in next(iter(scored.values())).columns if c not in SKIP]
    rows = []
    for column in columns:
        if column not in test.columns or test[column].isna().any():
            continue  # STAE's branch columns leave the frames that no clip covers empty
        free = {k: copies_auc(s, column, sigma) for k, s in scored.items()}
        frame = score_frame(test, ScoringOptions(column, options.normalization, sigma))
        label = run_label(run) + (" (default)" if column == options.column else "")
        cells = [
            time.strftime("%Y-%m-%d"),
            f"{label}: `{run.relative_to(ROOT)}`",
            f"`{column}`",
            f"{sigma:g}"
            + "".join(f", {NAMES[key]} {value:g}" for key, value in pasted.items())
            + ("" if clip_length is None else f", clips of {clip_length}"),
            f"{np.mean(list(free.values())):.3f}",
            " / ".join(f"{free[k]:.3f}" if k in free else "–" for k in KINDS),
            f"{evaluate(frame)[0]['micro_auc']:.3f}",
            f"`python bench/columns.py --runs {run.relative_to(ROOT)} --sigma {sigma:g}"
            + "".join(f" --{NAMES[key]} {value:g}" for key, value in pasted.items())
            + ("" if clip_length is None else f" --clip-length {clip_length}")
            + "`",
        ]
        rows.append("| " + " | ".join(cells) + " |\n")
    return "".join(rows)


if __name__ == "__main__":
    main()
