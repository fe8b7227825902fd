"""Localisation on UCSD Ped2: re-score a trained model's run with its pixel maps; one row each.

    python bench/ped2_pixel.py [--models unet density] [--train]

For every model: the newest labelled ``outputs/bench/ped2_<model>/<run>`` (the run its frame-level
row in "UCSD Ped2: one model each" came from; ``--train`` trains one with ``bench/ped2.py`` when
there is none) is scored again by ``predict.py`` with Ped2's official per-pixel masks
(``testing/masks``), which writes ``pixel_maps/`` and adds pixel AUROC, the UCSD pixel-level
criterion (detection rate at EER) and RBDC/TBDC to ``metrics.json``. The maps are the model's
own: squared prediction / reconstruction errors at the model's resolution, resized (bilinear) to
the cached frame size the masks are resized to (nearest), or the density member's box scores.
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

from bench.ensemble_sweep import PED2  # noqa: E402
from bench.ped2_ensemble import newest_run, train  # noqa: E402
from bench.results import record  # noqa: E402

SECTION = "UCSD Ped2: localisation (pixel-level, official masks)"
HEADER = (
    "| date | model | resolution | micro AUC | pixel AUROC | UCSD pixel RD | RBDC | TBDC | "
    "evaluation s | run | command |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["unet", "density"])
    parser.add_argument("--train", action="store_true", help="train models that have no run")
    parser.add_argument("--data-root", type=Path, default=PED2)
    parser.add_argument("--no-record", action="store_true", help="do not append to results.md")
    args = parser.parse_args()
    if not (args.data_root / "testing" / "masks").is_dir():
        sys.exit(f"Ped2 with testing/masks not found at {args.data_root} (set VAD_PED2)")
    for model in args.models:
        run = newest_run(model, args.data_root)
        if run is None and args.train:
            train(model, args.data_root)
            run = newest_run(model, args.data_root)
        if run is None:
            sys.exit(f"no labelled Ped2 run of {model} under outputs/bench/ (use --train)")
        out = ROOT / "outputs" / "bench" / "ped2_pixel" / f"{model}_{time.strftime('%H-%M-%S')}"
        command = [
            sys.executable,
            "predict.py",
            f"ckpt_path={run.relative_to(ROOT)}",
            "data=ped2",
            f"data.root={args.data_root}",
            f"hydra.run.dir={out}",
        ]
        print("+", shlex.join(command), flush=True)
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True)
        row = result_row(model, run, out, time.perf_counter() - start, args)
        print(HEADER + row)
        if not args.no_record:
            record(SECTION, HEADER, row)


def result_row(model: str, run: Path, out: Path, seconds: float, args: argparse.Namespace) -> str:
    metrics = json.loads((out / "metrics.json").read_text())
    if "pixel_auroc" not in metrics:
        sys.exit(f"{out / 'metrics.json'} has no pixel metrics: were the masks found?")
    size = OmegaConf.load(run / ".hydra" / "config.yaml").data.image_size
    command = f"python bench/ped2_pixel.py --models {model}" + (" --train" if args.train else "")
    cells = [
        time.strftime("%Y-%m-%d"),
        model,
        "x".join(str(s) for s in size),
        f"{metrics['micro_auc']:.3f}",
        f"{metrics['pixel_auroc']:.3f}",
        f"{metrics['ucsd_pixel_rd']:.3f}",
        f"{metrics['rbdc']:.3f}",
        f"{metrics['tbdc']:.3f}",
        f"{seconds:.0f}",
        f"`{run.relative_to(ROOT)}`",
        f"`{command}`",
    ]
    return "| " + " | ".join(cells) + " |\n"


if __name__ == "__main__":
    main()
