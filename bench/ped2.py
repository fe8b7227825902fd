"""Benchmark a model on UCSD Ped2: train, score the test videos, append a row to results.md.

    python bench/ped2.py --model unet [hydra overrides...]

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
RESULTS = ROOT / "bench" / "results.md"
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
    args, overrides = parser.parse_known_args()
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
        if not RESULTS.exists():
            RESULTS.write_text(
                "# Benchmark results\n\nAppended by `bench/*.py`; newest last.\n\n" + HEADER
            )
        with RESULTS.open("a") as handle:
            handle.write(row)


def result_row(model: str, run: Path, overrides: list[str]) -> str:
    train = json.loads((run / "train_metrics.json").read_text())
    test = json.loads((run / "metrics.json").read_text())
    data = OmegaConf.load(run / ".hydra" / "config.yaml").data
    size = "x".join(str(v) for v in data.image_size) + (" RGB" if data.channels == 3 else "")
    command = shlex.join(["python", "bench/ped2.py", "--model", model, *overrides])
    cells = [
        time.strftime("%Y-%m-%d"),
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
