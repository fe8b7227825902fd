"""Benchmark a model on UCSD Ped2 or Ped1: train, score the test videos, append a row to results.md.

    python bench/ped2.py --model unet [hydra overrides...]
    python bench/ped2.py --dataset ped1 --model unet [hydra overrides...]   # UCSD Ped1
    python bench/ped2.py --model unet --record-run outputs/bench/ped2_unet/<run>  # a finished run

Runs ``train.py experiment=ped2_<model> data.root=<ped2>`` on Ped2 and ``train.py
experiment=<model> data=ped1 data.root=<ped1>`` on Ped1 (the same preset; training, then scoring
of the test videos with the best checkpoint) and records the model, resolution, epochs, training
minutes, training samples/s, inference frames/s, micro AUC, macro AUC and AP with the command.
Ped1 rows also name their protocol (score column, normalisation, smoothing sigma). The data
folders: ``VAD_PED2`` / ``VAD_PED1`` (default ``../shared/data/<name>``), or ``--data-root``.
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

DATASETS = ("ped1", "ped2")
SHARED = ROOT.parent / "shared" / "data"
ROOTS = {
    name: Path(os.environ.get(f"VAD_{name.upper()}", SHARED / name)) for name in ("ped1", "ped2")
}
PED2 = ROOTS["ped2"]  # the Ped2-only benchmarks' data folder
SECTIONS = {
    "ped2": "UCSD Ped2: one model each (`bench/ped2.py`)",
    "ped1": "UCSD Ped1: one model each (`bench/ped2.py --dataset ped1`)",
}
HEADER = (
    "| date | model | resolution | epochs | train min | train samples/s | inference fps | "
    "micro AUC | macro AUC | AP | command |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|\n"
)
PROTOCOL_HEADER = (
    "| date | model | resolution | steps (epochs) | train min | train samples/s | inference fps | "
    "protocol | micro AUC | macro AUC | AP | command |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="unet")
    parser.add_argument("--dataset", choices=sorted(ROOTS), default="ped2")
    parser.add_argument("--data-root", type=Path, help="the dataset's folder (default: VAD_<NAME>)")
    parser.add_argument("--no-record", action="store_true", help="do not append to results.md")
    parser.add_argument(
        "--record-run", type=Path, help="append the row of a finished run of this script"
    )
    args, overrides = parser.parse_known_args()
    data_root = args.data_root or ROOTS[args.dataset]
    if args.record_run is not None:
        overrides = _run_overrides(args.record_run)
        record(args.dataset, result_row(args.model, args.record_run, overrides, args.dataset))
        return
    if not (data_root / f"{args.dataset}.mat").is_file():
        env = f"VAD_{args.dataset.upper()}"
        sys.exit(f"UCSD {args.dataset} not found at {data_root} (set {env} or --data-root)")
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    run = ROOT / "outputs" / "bench" / f"{args.dataset}_{args.model}" / stamp
    command = [
        sys.executable,
        "train.py",
        *preset(args.model, args.dataset),
        f"data.root={data_root}",
        f"hydra.run.dir={run}",
        *overrides,
    ]
    print("+", shlex.join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)
    row = result_row(args.model, run, overrides, args.dataset)
    print(row)
    if not args.no_record:
        record(args.dataset, row)


def record(dataset: str, row: str) -> None:
    """Append ``row`` to the dataset's table of ``bench/results.md``."""
    record_rows(SECTIONS[dataset], HEADER if dataset == "ped2" else PROTOCOL_HEADER, row)


def _run_overrides(run: Path) -> list[str]:
    """The overrides the run was started with, less those this script adds."""
    own = ("experiment=", "data=", "data.root=", "hydra.run.dir=")
    overrides = OmegaConf.load(run / ".hydra" / "overrides.yaml")
    return [str(o) for o in overrides if not str(o).startswith(own)]


def result_row(model: str, run: Path, overrides: list[str], dataset: str = "ped2") -> str:
    train = json.loads((run / "train_metrics.json").read_text())
    test = json.loads((run / "metrics.json").read_text())
    config = OmegaConf.load(run / ".hydra" / "config.yaml")
    data = config.data
    size = "x".join(str(v) for v in _image_size(run, data)) + (" RGB" if data.channels == 3 else "")
    prefix = ["python", "bench/ped2.py"] + (["--dataset", dataset] if dataset != "ped2" else [])
    command = shlex.join([*prefix, "--model", model, *overrides])
    cells = [
        run.name[:10],  # the run folder is named <date>_<time>
        model,
        size,
        str(train["epochs"]) if dataset == "ped2" else _budget(train),
        f"{train['train_minutes']:.1f}",
        f"{train['train_samples_per_s']:.1f}",
        f"{test['inference_fps']:.1f}",
        *([] if dataset == "ped2" else [protocol(config, run)]),
        f"{test['micro_auc']:.3f}",
        f"{test['macro_auc']:.3f}",
        f"{test['ap']:.3f}",
        f"`{command}`",
    ]
    return "| " + " | ".join(cells) + " |\n"


def preset(model: str, dataset: str) -> list[str]:
    """The overrides that pick the model's preset on the dataset: ``experiment=ped2_<model>`` on
    Ped2, the dataset-free ``experiment=<model>`` with ``data=<dataset>`` elsewhere."""
    own = ROOT / "conf" / "experiment" / f"{model}.yaml"
    if dataset == "ped2" or not own.is_file():
        return [f"experiment=ped2_{model}", *([] if dataset == "ped2" else [f"data={dataset}"])]
    return [f"experiment={model}", f"data={dataset}"]


def _image_size(run: Path, data) -> list[int]:
    """The frame size a run trained at (``native`` resolved: the run's scoring.json)."""
    if not isinstance(data.image_size, str):
        return list(data.image_size)
    return json.loads((run / "scoring.json").read_text()).get("image_size", [data.image_size])


def _run_column(run: Path) -> str:
    """The column a run evaluated (its scoring.json), for ``scoring.column: null``."""
    path = run / "scoring.json"
    return (
        json.loads(path.read_text()).get("column", "model's own")
        if path.is_file()
        else "model's own"
    )


def _budget(train: dict) -> str:
    """Optimizer steps and epochs of a run, as ``steps (epochs)``."""
    steps = train.get("steps")
    return f"{steps} ({train['epochs']})" if steps is not None else f"- ({train['epochs']})"


def protocol(config, run: Path) -> str:
    """The run's scoring protocol in one cell: column, normalisation, smoothing."""
    scoring = config.scoring
    column = scoring.column or _run_column(run)
    return f"{column}, {scoring.normalization}, sigma {scoring.smoothing.sigma:g}"


if __name__ == "__main__":
    main()
