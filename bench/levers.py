"""Detection-quality levers on UCSD Ped2, one model at a time: what each adds over its baseline.

    python bench/levers.py --model unet [--only NAME ...] [--no-record] [hydra overrides...]

Variants (each one training run of ``experiment=ped2_<model>`` with region boxes on, so that every
run also scores the ``region`` and ``location_z`` columns): ``baseline``, ``pseudo-anomalies``
(skip frames 2-5 with probability 0.2, LNTRA's setting), ``EMA`` (decay 0.999),
``motion-weighted loss`` (the U-Net's L2 weighted half by the motion into the target, after
AED-MAE). Each run gives one
row per score column: ``psnr`` (the baseline score), ``region`` (+ region scoring) and
``location_z`` (+ per-location normalisation). Besides the test metrics, every row has the
column's label-free validation score (sped-up segments in the held-out normal videos, best
checkpoint): defaults may only follow that one.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ped2 import PED2  # noqa: E402
from bench.results import record  # noqa: E402
from vad.io.scores import read_scores  # noqa: E402
from vad.models.checkpoint import load_model  # noqa: E402
from vad.scoring.metrics import evaluate  # noqa: E402
from vad.scoring.options import ScoringOptions  # noqa: E402
from vad.scoring.pipeline import score_frame  # noqa: E402
from vad.scoring.pseudo_anomaly import label_free_auc  # noqa: E402
from vad.scoring.scorer import Scorer  # noqa: E402
from vad.tasks.instantiate import instantiate_datamodule  # noqa: E402

QUIET = ["callbacks.rich_progress_bar=null", "trainer.enable_progress_bar=false"]
VARIANTS = {
    "baseline": [],
    "pseudo-anomalies": ["model.pseudo_anomaly.probability=0.2"],
    "EMA": ["callbacks=[default,ema]"],
    "motion-weighted loss": ["model.loss.motion=0.5"],
}
COLUMNS = {"psnr": "baseline score", "region": "+ region scoring", "location_z": "+ per-location"}
SECTION = "UCSD Ped2: detection-quality levers (`bench/levers.py`)"
HEADER = (
    "| date | model | variant | score | epochs | train min | inference fps | label-free val AUC | "
    "micro AUC | macro AUC | AP | command |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="unet")
    parser.add_argument("--only", nargs="+", choices=list(VARIANTS), metavar="NAME")
    parser.add_argument("--no-record", action="store_true")
    args, extra = parser.parse_known_args()
    for name in args.only or VARIANTS:
        overrides = ["model.regions=true", *VARIANTS[name], *extra]
        run = ROOT / "outputs" / "bench" / "levers" / time.strftime("%Y-%m-%d_%H-%M-%S")
        command = [sys.executable, "train.py", f"experiment=ped2_{args.model}"]
        command += [f"data.root={PED2}", f"hydra.run.dir={run}", *overrides, *QUIET]
        print("+", shlex.join(command), flush=True)
        subprocess.run(command, cwd=ROOT, check=True)
        again = ["python", "bench/levers.py", "--model", args.model, "--only", name, *extra]
        rows = column_rows(run, args.model, name, shlex.join(again))
        print(HEADER + rows, flush=True)
        if not args.no_record:
            record(SECTION, HEADER, rows)


def column_rows(run: Path, model: str, variant: str, command: str) -> str:
    """One row per score column of a finished run."""
    train = json.loads((run / "train_metrics.json").read_text())
    fps = json.loads((run / "metrics.json").read_text())["inference_fps"]
    scores = read_scores(run / "scores.csv")
    module, meta = load_model(run / "checkpoints" / "best.ckpt")
    datamodule = instantiate_datamodule(OmegaConf.create(meta["data"]))
    datamodule.configure_clips(module.clip_length, module.modalities)
    videos = datamodule.videos("val")
    rows = ""
    for column in [c for c in COLUMNS if c in scores.columns]:
        frame = score_frame(scores, ScoringOptions(column=column))
        summary, _ = evaluate(frame)
        free = label_free_auc(Scorer(module), videos, column, settings=datamodule.modality_settings)
        cells = [
            run.name[:10],
            model,
            variant,
            f"{column} ({COLUMNS[column]})",
            str(train["epochs"]),
            f"{train['train_minutes']:.1f}",
            f"{fps:.1f}",
            f"{free:.3f}",
            f"{summary['micro_auc']:.3f}",
            f"{summary['macro_auc']:.3f}",
            f"{summary['ap']:.3f}",
            f"`{command}`",
        ]
        rows += "| " + " | ".join(cells) + " |\n"
    return rows


if __name__ == "__main__":
    main()
