"""Temporal smoothing of frame scores on Ped2, judged by the label-free validation score.

    python bench/smoothing.py [--models unet stae roadmap joint density] [--no-record]
    python bench/smoothing.py --runs outputs/bench/levers/<run> ...   # any finished Ped2 runs

For the newest labelled Ped2 run of each model at today's defaults (``bench/ped2.py``), its
best checkpoint scores the pseudo-anomalies of the label-free validation score (sped-up segments
x2 and x3 and a pasted moving object, with the settings of
``conf/callbacks/label_free_validation.yaml``) in copies of its held-out normal validation
videos, and the mean label-free AUC is computed for each Gaussian sigma (frames) of the
smoothing; beside it, the test micro AUC of the run's scores.csv at the same sigmas (the run's
column and normalisation). A default sigma may only follow the label-free
columns; the test columns show what that choice does.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ped2 import PED2  # noqa: E402
from bench.ped2_ensemble import newest_run  # noqa: E402
from bench.results import record  # noqa: E402
from vad.io.scores import read_scores  # noqa: E402
from vad.models.checkpoint import load_model  # noqa: E402
from vad.scoring.metrics import evaluate  # noqa: E402
from vad.scoring.options import ScoringOptions  # noqa: E402
from vad.scoring.pipeline import score_frame  # noqa: E402
from vad.scoring.pseudo_anomaly import copies_auc, pseudo_copies  # noqa: E402
from vad.scoring.scorer import Scorer  # noqa: E402
from vad.tasks.instantiate import instantiate_datamodule  # noqa: E402

SIGMAS = (0.0, 1.0, 2.0, 3.0, 5.0)
KINDS = ("x2", "x3", "pasted")
SECTION = "UCSD Ped2: temporal smoothing of frame scores (`bench/smoothing.py`)"
HEADER = (
    "| date | model | column | label-free val AUC at sigma 0 / 1 / 2 / 3 / 5 | "
    "label-free kinds at sigma 3: x2 / x3 / pasted | micro AUC at sigma 0 / 1 / 2 / 3 / 5 | "
    "run | command |\n|---|---|---|---|---|---|---|---|\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", default=["unet", "stae", "roadmap", "joint", "density"]
    )
    parser.add_argument("--runs", nargs="+", type=Path, help="these runs instead")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    runs = [(run_label(r), r.resolve()) for r in args.runs or []]
    for model in [] if args.runs else args.models:
        run = newest_run(model, PED2)
        if run is None:
            sys.exit(f"no labelled Ped2 run of {model} under outputs/bench/ (bench/ped2.py)")
        runs.append((model, run))
    for label, run in runs:
        row = smoothing_row(label, run, f"--runs {run.relative_to(ROOT)}" if args.runs else None)
        print(HEADER + row, flush=True)
        if not args.no_record:
            record(SECTION, HEADER, row)


def label_free_settings() -> dict:
    """Factors and pasted-object options of the label-free validation callback's config."""
    conf = OmegaConf.load(ROOT / "conf" / "callbacks" / "label_free_validation.yaml")
    callback = OmegaConf.to_container(conf.label_free_validation, resolve=False)
    return {"factors": callback["factors"], "pasted": callback["pasted"]}


def run_label(run: Path) -> str:
    """The experiment and the overrides that change the model or its training."""
    overrides = OmegaConf.load(run / ".hydra" / "overrides.yaml")
    skip = ("data.root=", "hydra.", "callbacks.rich_progress_bar", "trainer.enable_progress_bar")
    kept = [str(o) for o in overrides if not str(o).startswith(skip)]
    return " ".join(o.removeprefix("experiment=") for o in kept)


def run_pseudo_copies(
    run: Path,
    pasted: dict | None = None,
    clip_length: int | None = None,
    ckpt: Path | None = None,
) -> tuple[Any, Any, dict]:
    """The run's best model (or ``ckpt``), its datamodule and the label-free pseudo-anomaly
    copies of its validation videos (``pseudo_copies`` with the callback's settings, ``pasted``
    options changed by ``pasted``; segments placed for ``clip_length`` when given)."""
    module, meta = load_model(ckpt or run / "checkpoints" / "best.ckpt")
    datamodule = instantiate_datamodule(OmegaConf.create(meta["data"]))
    datamodule.configure_clips(module.clip_length, module.modalities)
    settings = label_free_settings()
    kinds = pseudo_copies(
        module,
        datamodule.videos("val"),
        settings["factors"],
        datamodule.modality_settings,
        {**settings["pasted"], **(pasted or {})},
        clip_length,
    )
    return module, datamodule, kinds


def smoothing_row(model: str, run: Path, selection: str | None = None) -> str:
    scoring = OmegaConf.load(run / ".hydra" / "config.yaml").scoring
    options = ScoringOptions.from_config(OmegaConf.to_container(scoring, resolve=True))
    module, datamodule, kinds = run_pseudo_copies(run)
    scorer = Scorer(module, options.aggregate)
    stride = datamodule.eval_stride
    scored = [scorer.score_videos(copies, 16, stride) for copies in kinds.values()]
    by_sigma = [[copies_auc(s, options.column, sigma) for s in scored] for sigma in SIGMAS]
    free = [np.mean(aucs) for aucs in by_sigma]
    kinds_at_3 = dict(zip(kinds, by_sigma[SIGMAS.index(3.0)], strict=True))
    scores = read_scores(run / "scores.csv")
    micro = []
    for sigma in SIGMAS:
        frame = score_frame(scores, ScoringOptions(options.column, options.normalization, sigma))
        micro.append(evaluate(frame)[0]["micro_auc"])
    cells = [
        time.strftime("%Y-%m-%d"),
        model,
        options.column,
        " / ".join(f"{v:.3f}" for v in free),
        " / ".join(f"{kinds_at_3[k]:.3f}" if k in kinds_at_3 else "–" for k in KINDS),
        " / ".join(f"{v:.3f}" for v in micro),
        f"`{run.relative_to(ROOT)}`",
        f"`python bench/smoothing.py {selection or '--models ' + model}`",
    ]
    return "| " + " | ".join(cells) + " |\n"


if __name__ == "__main__":
    main()
