"""Ped2 U-Net training-recipe ablation: each difference to a public FFP reimplementation alone,
then all of them, at the default 64x64 CPU setting (``experiment=ped2_unet``).

    python bench/recipe_ablation.py [--only NAME ...] [--no-record]

Each variant is one ``bench/ped2.py`` run; its row (variant, epochs, train minutes, inference
frames/s, the label-free validation score of its last epoch, micro / macro AUC, AP, command)
goes to its own section of ``bench/results.md``. The test AUCs explain a gap; a default may only
follow the label-free score (``N(0, 0.02) init`` won it and is now the U-Net's default).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ped2 import PED2, result_row  # noqa: E402
from bench.results import record  # noqa: E402

QUIET = ["callbacks.rich_progress_bar=null", "trainer.enable_progress_bar=false"]
#: the recipe before this ablation (PyTorch's init, area resize, shuffled clips, warm-up + cosine,
#: bf16, no EMA; ``experiment=ped2_unet`` has since adopted the peer's choices): every variant
#: changes it
BASE = [
    "model.init_std=null",
    "data.resize=area",
    "data.sampling=clips",
    "model.scheduler={_target_:vad.models.schedules.WarmupCosine,_partial_:true,"
    "warmup_steps:100,min_ratio:0.05}",
    "trainer.precision=bf16-mixed",
    "callbacks=default",
]
PEER = {
    "bilinear resize": ["data.resize=bilinear"],
    "one clip per video per batch": ["data.sampling=videos"],
    "constant learning rate": ["model.scheduler=null"],
    "N(0, 0.02) init": ["model.init_std=0.02"],
    "all 16 videos, last checkpoint": [
        "data.val_videos=0",
        "callbacks.model_checkpoint.monitor=null",
    ],
    "fp32": ["trainer.precision=32-true"],
}
ALL = [o for v in PEER.values() for o in v]
VARIANTS = {
    "baseline": [],
    **PEER,
    "all of the above": ALL,
    "all + pseudo-anomalies": [*ALL, "model.pseudo_anomaly.probability=0.2"],
    "all + EMA": [*ALL, "callbacks=[default,ema]"],
}
SECTION = "UCSD Ped2: U-Net training-recipe ablation (`bench/recipe_ablation.py`)"
HEADER = (
    "| date | variant | epochs | train min | inference fps | label-free val AUC | micro AUC | "
    "macro AUC | AP | command |\n|---|---|---|---|---|---|---|---|---|---|\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(VARIANTS), metavar="NAME")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    for name in args.only or VARIANTS:
        changed = {o.split("=", 1)[0] for o in VARIANTS[name]}
        base = [o for o in BASE if o.split("=", 1)[0] not in changed]
        overrides = [*base, *VARIANTS[name], *QUIET]
        run = ROOT / "outputs" / "bench" / "ablation" / time.strftime("%Y-%m-%d_%H-%M-%S")
        command = [
            sys.executable,
            "train.py",
            "experiment=ped2_unet",
            f"data.root={PED2}",
            f"hydra.run.dir={run}",
            *overrides,
        ]
        print("+", shlex.join(command), flush=True)
        subprocess.run(command, cwd=ROOT, check=True)
        row = ablation_row(name, result_row("unet", run, overrides), label_free(run))
        print(HEADER + row, flush=True)
        if not args.no_record:
            record(SECTION, HEADER, row)


def label_free(run: Path) -> str:
    """The last logged label-free validation score of a run (``val/pseudo_auc``), or n/a."""
    logged = pd.read_csv(run / "csv" / "metrics.csv")
    values = logged["val/pseudo_auc"].dropna() if "val/pseudo_auc" in logged else []
    return f"{values.iloc[-1]:.3f}" if len(values) else "n/a"


def ablation_row(name: str, ped2_row: str, label_free_auc: str) -> str:
    """The ``bench/ped2.py`` row without model, resolution and samples/s, with the variant, its
    label-free validation score and the command that reruns it."""
    cells = [c.strip() for c in ped2_row.strip().strip("|").split("|")]
    date, _, _, epochs, minutes, _, fps, micro, macro, ap, _ = cells
    command = shlex.join(["python", "bench/recipe_ablation.py", "--only", name])
    row = [date, name, epochs, minutes, fps, label_free_auc, micro, macro, ap, f"`{command}`"]
    return "| " + " | ".join(row) + " |\n"


if __name__ == "__main__":
    main()
