"""Equal-weight ensemble of the Ped2 (or Ped1) members; appends a row to results.md.

    python bench/ped2_ensemble.py [--models unet stae roadmap joint density] [--train]
    python bench/ped2_ensemble.py --run roadmap=outputs/bench/ped2_roadmap/<run>  # another run
    python bench/ped2_ensemble.py --dataset ped1 --models unet density \
        --run unet=outputs/bench/ped1_unet/<run> --run density=... [--variant normalization=...]

``unet_objects`` (``experiment=ped2_unet_objects``: the U-Net on object crops) can stand in for
``unet``.

Members: the newest labelled ``outputs/bench/ped2_<model>/<run>`` of each model trained at
today's defaults (``at_defaults``: runs of rejected variants are passed over; ``--train``
first trains, with ``bench/ped2.py``, every model that has none; ``--retrain`` trains all of
them). ``ensemble.py`` fuses them with equal weights at its defaults (each member min-max
normalised per video, the fused score smoothed per video) and evaluates on all test videos: no
weight is tuned, so nothing is fitted to the test labels. The row gives each member's micro AUC,
the fused micro / macro AUC and AP, and the summed training minutes of the members.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from bench.ensemble_sweep import PED2, _labelled_ped2  # noqa: E402
from bench.results import record  # noqa: E402

MODELS = ("unet", "stae", "roadmap", "joint", "density", "unet_objects")
SECTION = "UCSD Ped2: equal-weight ensemble"
PED1_SECTION = "UCSD Ped1: equal-weight ensemble (`bench/ped2_ensemble.py --dataset ped1`)"
PED1_HEADER = (
    "| date | members | member micro AUCs | protocol | train min (sum) | micro AUC | macro AUC | "
    "AP | command |\n|---|---|---|---|---|---|---|---|---|\n"
)
HEADER = (
    "| date | members | member micro AUCs | train min (sum) | micro AUC | macro AUC | AP | "
    "command |\n|---|---|---|---|---|---|---|---|\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS[:5]), choices=MODELS)
    parser.add_argument("--train", action="store_true", help="train models that have no run")
    parser.add_argument("--retrain", action="store_true", help="train every model anew")
    parser.add_argument("--data-root", type=Path, default=PED2)
    parser.add_argument(
        "--run", action="append", default=[], metavar="MODEL=RUN", help="this run for MODEL"
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to results.md")
    parser.add_argument("--dataset", choices=("ped1", "ped2"), default="ped2")
    parser.add_argument(
        "--variant", action="append", default=[], help="an ensemble.py override, e.g. fusion=max"
    )
    args = parser.parse_args()
    chosen = _chosen(args)
    if args.dataset != "ped2":  # members are named with --run (no at-defaults search)
        missing = [m for m in args.models if m not in chosen]
        if missing:
            sys.exit(f"--dataset {args.dataset}: name the run of {missing} with --run MODEL=RUN")
    elif not (args.data_root / "ped2.mat").is_file():
        sys.exit(f"UCSD Ped2 not found at {args.data_root} (set VAD_PED2 or --data-root)")
    runs = {}
    for model in args.models:
        if model in chosen:
            runs[model] = (ROOT / chosen[model]).resolve()
            continue
        run = newest_run(model, args.data_root)
        if args.retrain or (run is None and args.train):
            train(model, args.data_root)
            run = newest_run(model, args.data_root)
        if run is None:
            sys.exit(f"no labelled Ped2 run of {model} under outputs/bench/ (use --train)")
        runs[model] = run
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    out = ROOT / "outputs" / "bench" / f"{args.dataset}_ensemble" / stamp
    command = [*ensemble_command(runs, out), *args.variant]
    print("+", shlex.join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)
    row = result_row(runs, out, args)
    print(row)
    if not args.no_record:
        ped1 = args.dataset == "ped1"
        record(PED1_SECTION if ped1 else SECTION, PED1_HEADER if ped1 else HEADER, row)


def newest_run(model: str, data_root: Path) -> Path | None:
    """The newest finished, labelled Ped2 run of ``model`` at today's defaults: every override
    it was trained with (beyond the data root and hydra's) equals today's value of that key, so
    runs of rejected variants are passed over (None when there is none)."""
    runs = sorted((ROOT / "outputs" / "bench" / f"ped2_{model}").glob("*/metrics.json"))
    usable = [r.parent for r in runs if _labelled_ped2(r.parent, data_root)]
    usable = [r for r in usable if at_defaults(r)]
    return usable[-1] if usable else None


#: settings that do not change what a run learns
NOT_COMPARED = (
    "data.root",
    "trainer.enable_progress_bar",
    "trainer.enable_model_summary",
    "callbacks.rich_progress_bar",
)


def at_defaults(run: Path) -> bool:
    """Whether ``run`` was trained at today's defaults: every setting of its model, data (but the
    root), trainer and callbacks that today's config of its experiment also has holds the same
    value there (settings added since, display settings and scoring, which every reader of the
    scores redoes, are not compared)."""
    saved = OmegaConf.load(run / ".hydra" / "config.yaml")
    overrides = [str(o) for o in OmegaConf.load(run / ".hydra" / "overrides.yaml")]
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        today = compose("train", overrides=[o for o in overrides if o.startswith("experiment=")])
    ran, now = _flat(saved), _flat(today)
    return all(now[key] == value for key, value in ran.items() if key in now)


def _flat(cfg: Any) -> dict[str, Any]:
    """Dotted key -> value of the sections that decide what a run learns."""
    flat: dict[str, Any] = {}
    for section in ("model", "data", "trainer", "callbacks"):
        node = OmegaConf.to_container(cfg.get(section) or OmegaConf.create({}), resolve=False)
        stack = [(section, node)]
        while stack:
            prefix, value = stack.pop()
            if isinstance(value, dict):
                stack += [(f"{prefix}.{k}", v) for k, v in value.items()]
            else:
                flat[prefix] = value
    return {k: v for k, v in flat.items() if not k.startswith(NOT_COMPARED)}


def train(model: str, data_root: Path) -> None:
    command = [sys.executable, "bench/ped2.py", "--model", model, f"--data-root={data_root}"]
    print("+", shlex.join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)


def ensemble_command(
    runs: dict[str, Path], out: Path, scores: dict[str, Path] | None = None
) -> list[str]:
    """``ensemble.py`` with every member at weight 1, evaluated on all videos; ``scores``: other
    score files of the members than their runs' (the runs still give columns and statistics)."""
    command = [sys.executable, "ensemble.py", f"hydra.run.dir={out}", "tune_videos=all"]
    for name, run in runs.items():
        plus = "+"  # conf/ensemble.yaml names no member
        column = (
            json.loads((run / "scoring.json").read_text()).get("column")
            or json.loads((run / "metrics.json").read_text())["score"]["column"]
        )
        command += [
            f"{plus}members.{name}.scores={run.relative_to(ROOT)}",
            f"{plus}members.{name}.column={column}",
            f"{plus}weights.{name}=1",
        ]
        if scores is not None:
            command[-3] = f"{plus}members.{name}.scores={scores[name]}"
            command.append(f"{plus}members.{name}.stats={run / 'checkpoints' / 'best.ckpt'}")
    return command


def result_row(runs: dict[str, Path], out: Path, args: argparse.Namespace) -> str:
    fused = json.loads((out / "metrics.json").read_text())["all_videos"]
    alone = []
    minutes = 0.0
    for name, run in runs.items():
        alone.append(f"{name} {json.loads((run / 'metrics.json').read_text())['micro_auc']:.3f}")
        minutes += json.loads((run / "train_metrics.json").read_text())["train_minutes"]
    dataset = f"--dataset {args.dataset} " if args.dataset != "ped2" else ""
    command = f"python bench/ped2_ensemble.py {dataset}--models " + " ".join(runs)
    command += "".join(f" --run {m}={r}" for m, r in _chosen(args).items())
    command += "".join(f" --variant {shlex.quote(v)}" for v in args.variant)
    if args.train or args.retrain:
        command += " --retrain" if args.retrain else " --train"
    cells = [
        time.strftime("%Y-%m-%d"),
        "+".join(runs),
        ", ".join(alone),
        *([_protocol(out)] if args.dataset != "ped2" else []),
        f"{minutes:.1f}",
        f"{fused['micro_auc']:.3f}",
        f"{fused['macro_auc']:.3f}",
        f"{fused['ap']:.3f}",
        f"`{command}`",
    ]
    return "| " + " | ".join(cells) + " |\n"


def _protocol(out: Path) -> str:
    """Normalisation, fusion and smoothing the ensemble ran with."""
    cfg = OmegaConf.load(out / ".hydra" / "config.yaml")
    return f"{cfg.normalization}, {cfg.fusion}, sigma {cfg.smoothing.sigma:g}"


def _chosen(args: argparse.Namespace) -> dict[str, str]:
    return dict(item.split("=", 1) for item in args.run)


if __name__ == "__main__":
    main()
