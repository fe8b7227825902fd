"""Benchmark a model on UCSD Ped2: train, score the test videos, append a row to results.md.

    python bench/ped2.py --model unet [hydra overrides...]
    python bench/ped2.py --model unet --record-run outputs/bench/ped2_unet/<run>  # a finished run

Runs ``train.py experiment=ped2_<model> data.root=<ped2>`` (training, then scoring of the test
videos with the best checkpoint) and records the model, resolution, epochs, training minutes,
training samples/s, inference frames/s, micro AUC, macro AUC and AP with the exact command.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record as record_rows  # noqa: E402

PED2 = Path(os.environ.get("VAD_PED2", ROOT.parent / "shared" / "data" / "ped2"))
HEADER = (
    "| date | model | resolution | epochs | train min | train samples/s | inference fps | "
    "micro AUC | macro AUC | AP | command |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="unet")
    parser.add_argument("--data-root", type=Path, default=PED2)
    parser.add_argument("--no-record", action="store_true", help="do not append to results.md")
    parser.add_argument(
        "--record-run", type=Path, help="append the row of a finished run of this script"
    )
    args, overrides = parser.parse_known_args()
    if args.record_run is not None:
        record(result_row(args.model, args.record_run, _run_overrides(args.record_run)))
        return
    if not (args.data_root / "ped2.mat").is_file():
        sys.exit(f"UCSD Ped2 not found at {args.data_root} (set VAD_PED2 or --data-root)")
    run = ROOT / "outputs" / "bench" / f"ped2_{args.model}" / time.strftime("%Y-%m-%d_%H-%M-%S")
    command = [
        sys.executable,
        "train.py",
        f"experiment=ped2_{args.model}",
        f"data.root={args.data_root}",
        f"hydra.run.dir={run}",
        *overrides,
    ]
    print("+", shlex.join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)
    row = result_row(args.model, run, overrides)
    print(HEADER + row)
    if not args.no_record:
        record(row)


def record(row: str) -> None:
    """Append ``row`` to the Ped2 table of ``bench/results.md``."""
    record_rows("UCSD Ped2: one model each (`bench/ped2.py`)", HEADER, row)


def _run_overrides(run: Path) -> list[str]:
    """The overrides the run was started with, less those this script adds."""
    own = ("experiment=", "data.root=", "hydra.run.dir=")
    overrides = OmegaConf.load(run / ".hydra" / "overrides.yaml")
    return [str(o) for o in overrides if not str(o).startswith(own)]


def result_row(model: str, run: Path, overrides: list[str]) -> str:
    train = json.loads((run / "train_metrics.json").read_text())
    test = json.loads((run / "metrics.json").read_text())
    data = OmegaConf.load(run / ".hydra" / "config.yaml").data
    size = "x".join(str(v) for v in data.image_size) + (" RGB" if data.channels == 3 else "")
    command = shlex.join(["python", "bench/ped2.py", "--model", model, *overrides])
    cells = [
        run.name[:10],  # the run folder is named <date>_<time>
        model,
        size,
        str(train["epochs"]),
        f"{train['train_minutes']:.1f}",
        f"{train['train_samples_per_s']:.1f}",
        f"{test['inference_fps']:.1f}",
        f"{test['micro_auc']:.3f}",
        f"{test['macro_auc']:.3f}",
        f"{test['ap']:.3f}",
        f"`{command}`",
    ]
    return "| " + " | ".join(cells) + " |\n"


if __name__ == "__main__":
    main()
