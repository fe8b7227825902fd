"""Time an ensemble weight sweep on UCSD Ped2 scores and print each member vs the ensemble.

    python bench/ensemble_sweep.py [--jobs 100] [--cv-folds 0] [--member NAME=RUN[:COLUMN] ...]

Members: the newest ``outputs/bench/ped2_<model>/<run>/scores.csv`` with labels, scored on the
Ped2 root, with the column the run was evaluated with, for each of unet, stae, roadmap and joint
(models without such a run are reported as missing); ``--member`` adds or replaces one. The sweep
is a Hydra multirun of ``ensemble.py`` over a grid of member weights with exactly ``--jobs``
points, timed from start to exit (including the summary and the re-run of the best job with its
report). Prints a results row and, from the best job, the table of each member alone vs the
ensemble on the held-out videos (or folds).
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

import numpy as np
import yaml
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ped2 import PED2  # noqa: E402
from bench.results import record  # noqa: E402

MODELS = ("unet", "stae", "roadmap", "joint")
METRICS = ("micro_auc", "macro_auc", "macro_auc_padded", "ap", "eer")
HEADER = (
    "| date | members | jobs | sweep time | per job | protocol | held-out micro AUC | command |\n"
    "|---|---|---|---|---|---|---|---|\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--cv-folds", type=int, default=0)
    parser.add_argument("--data-root", type=Path, default=PED2)
    parser.add_argument("--member", action="append", default=[], help="NAME=RUN[:COLUMN]")
    parser.add_argument("--no-record", action="store_true", help="do not append to results.md")
    args, overrides = parser.parse_known_args()
    members = find_members(args.data_root)
    members.update(parse_member(m) for m in args.member)
    if not members:
        sys.exit("no Ped2 member scores found under outputs/bench/ped2_<model>/")
    sweep_dir = ROOT / "outputs" / "bench" / "ensemble_sweep" / time.strftime("%Y-%m-%d_%H-%M-%S")
    command = sweep_command(members, args.jobs, args.cv_folds, sweep_dir, overrides)
    print("+", shlex.join(command), flush=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, env=env, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    row = result_row(members, sweep_dir, seconds, args, overrides)
    print(row)
    print(member_table(sweep_dir))
    if not args.no_record:
        record("Ensemble weight sweeps on Ped2 (`bench/ensemble_sweep.py`)", HEADER, row + "\n")


def find_members(data_root: Path) -> dict[str, tuple[str, str]]:
    """Model -> (newest labelled Ped2 run folder, the column the run was evaluated with); missing
    models are reported."""
    found = {}
    for model in MODELS:
        runs = sorted((ROOT / "outputs" / "bench" / f"ped2_{model}").glob("*/scores.csv"))
        usable = [r.parent for r in runs if _labelled_ped2(r.parent, data_root)]
        if usable:
            column = OmegaConf.load(usable[-1] / ".hydra" / "config.yaml").scoring.column
            found[model] = (str(usable[-1].relative_to(ROOT)), str(column))
        else:
            print(f"missing: no labelled Ped2 scores for {model}", file=sys.stderr)
    return found


def _labelled_ped2(run: Path, data_root: Path) -> bool:
    header = (run / "scores.csv").open().readline().strip().split(",")
    config = run / ".hydra" / "config.yaml"
    if "label" not in header or not config.is_file():
        return False
    root = OmegaConf.load(config).data.get("root")
    return root is not None and Path(str(root)).resolve() == data_root.resolve()


def parse_member(text: str) -> tuple[str, tuple[str, str]]:
    name, _, rest = text.partition("=")
    path, _, column = rest.partition(":")
    return name, (path, column or "psnr")


def grid_levels(n_members: int, jobs: int) -> list[int]:
    """Levels per member whose product is ``jobs`` (prime factors dealt largest first)."""
    factors, n, p = [], jobs, 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    levels = [1] * n_members
    for i, f in enumerate(sorted(factors, reverse=True)):
        levels[i % n_members] *= f
    return levels


def sweep_command(
    members: dict[str, tuple[str, str]],
    jobs: int,
    cv_folds: int,
    sweep_dir: Path,
    overrides: list[str],
) -> list[str]:
    command = [sys.executable, "ensemble.py", "-m", f"hydra.sweep.dir={sweep_dir}"]
    for (name, (path, column)), count in zip(
        members.items(), grid_levels(len(members), jobs), strict=True
    ):
        plus = "+"  # conf/ensemble.yaml names no member
        command += [f"{plus}members.{name}.scores={path}", f"{plus}members.{name}.column={column}"]
        levels = np.linspace(0, 1, count) if count > 1 else [1.0]
        command.append(f"{plus}weights.{name}=" + ",".join(f"{v:g}" for v in levels))
    if cv_folds:
        command.append(f"cv_folds={cv_folds}")
    return command + overrides


def result_row(
    members: dict, sweep_dir: Path, seconds: float, args: argparse.Namespace, overrides: list[str]
) -> str:
    summary = yaml.safe_load((sweep_dir / "summary.yaml").read_text())
    micro = _cell(summary["report"]["metrics"]["micro_auc"])
    extra = [f"--member {m}" for m in args.member] + overrides
    command = f"python bench/ensemble_sweep.py --jobs {args.jobs} --cv-folds {args.cv_folds}"
    cells = [
        time.strftime("%Y-%m-%d"),
        "+".join(members),
        str(summary["jobs"]),
        f"{seconds:.1f} s",
        f"{seconds / summary['jobs']:.3f} s",
        summary["protocol"],
        micro,
        f"`{' '.join([command, *extra])}`",
    ]
    return "| " + " | ".join(cells) + " |"


def member_table(sweep_dir: Path) -> str:
    """Each member alone (from the best job's re-run) vs the tuned ensemble (the sweep summary's
    honest numbers: eval videos of the tune/eval split, or nested cross-validation)."""
    metrics = json.loads((sweep_dir / "best" / "metrics.json").read_text())
    summary = yaml.safe_load((sweep_dir / "summary.yaml").read_text())
    cv = "cv" in metrics
    rows = {name: r["cv" if cv else "eval"] for name, r in metrics["members_alone"].items()}
    rows["ensemble (tuned by the sweep)"] = summary["report"]["metrics"]
    lines = ["| score | " + " | ".join(METRICS) + " |", "|---" * (len(METRICS) + 1) + "|"]
    for name, values in rows.items():
        cells = [_cell(values[k]) for k in METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return f"on {summary['report']['on']}:\n" + "\n".join(lines)


def _cell(value: float | dict) -> str:
    if isinstance(value, dict):
        return f"{value['mean']:.3f} ± {value['std']:.3f}"
    return f"{value:.3f}"


if __name__ == "__main__":
    main()
