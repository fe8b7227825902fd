"""Cost against footage length: does anything grow faster than the footage?

    python bench/footage_cost.py [--frames 2000 10000 50000] [--steps 300] [--no-record]

For each total of training frames, writes a synthetic dataset (``data=synthetic``: 8 training
videos of ``frames / 8`` frames each, 2 test videos of the same length, 160x120 JPEG), then runs
``train.py experiment=unet data=synthetic`` with a fixed step budget (``trainer.max_steps``, the
presets' kind of budget) and its own empty frame cache, and reports: training minutes (should not
grow: the budget is in steps), the rest of the run's wall time (cache build of every video plus
scoring of the test videos: linear), test scoring frames/s, the run's peak resident memory
(``os.wait4``) and the cache's size on disk. Rows go to bench/results.md ("Cost against footage
length"); everything is written under ``outputs/bench/footage_cost/``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402

WORK = ROOT / "outputs" / "bench" / "footage_cost"
SECTION = "Cost against footage length (`bench/footage_cost.py`)"
HEADER = (
    "**Protocol:** U-Net (`experiment=unet data=synthetic`, 64x64 grey) with a fixed step budget; "
    "synthetic 160x120 footage, 8 training and 2 test videos; no label is looked at (cost only). "
    "`train min`: time in training batches (the validations inside an epoch excluded); "
    "`rest min`: the run's wall time less that (frame cache of every video, validation, test "
    "scoring).\n\n"
    "| date | train frames | test frames | steps | train min | rest min | scoring fps | "
    "peak RSS MB | cache MB | command |\n|---|---|---|---|---|---|---|---|---|---|\n"
)


def run(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of ``command`` in a fresh process."""
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024  # Linux: kilobytes


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[2000, 10000, 50000])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    command = ["python", "bench/footage_cost.py", "--frames", *map(str, args.frames)]
    command += ["--steps", str(args.steps)]
    for total in args.frames:
        per_video = total // 8
        work = WORK / str(total)
        shutil.rmtree(work, ignore_errors=True)
        train = [
            sys.executable, "train.py", "experiment=unet", "data=synthetic",
            f"data.root={work}/data", f"data.cache_dir={work}/cache", f"hydra.run.dir={work}/run",
            "data.layout.n_train=8", "data.layout.n_test=2", f"data.layout.n_frames={per_video}",
            f"trainer.max_steps={args.steps}", "callbacks.rich_progress_bar=null",
            "trainer.enable_progress_bar=false", "callbacks.sample_predictions=null",
        ]  # fmt: skip
        generate = [sys.executable, "-c", _GENERATE.format(root=f"{work}/data", n=per_video)]
        subprocess.run(generate, cwd=ROOT, check=True)  # the dataset, before the timed run
        seconds, peak = run(train)
        metrics = json.loads((work / "run" / "train_metrics.json").read_text())
        # time in training epochs (vad.tasks.speed): the steps only, no cache, no validation
        train_min = metrics["train_samples"] / metrics["train_samples_per_s"] / 60
        rest = seconds / 60 - train_min
        row = (
            f"| {date.today()} | {total} | {2 * per_video} | {metrics['steps']} | "
            f"{train_min:.2f} | {rest:.2f} | {metrics['test/inference_fps']:.0f} "
            f"| {peak:.0f} | {size_mb(work / 'cache'):.0f} | `{' '.join(command)}` |\n"
        )
        print(row, end="", flush=True)
        if not args.no_record:
            record(SECTION, HEADER, row)


_GENERATE = (
    "from vad.data.synthetic.dataset_writer import generate; "
    "generate({root!r}, seed=0, n_train=8, n_test=2, n_frames={n}, width=160, height=120)"
)


if __name__ == "__main__":
    main()
