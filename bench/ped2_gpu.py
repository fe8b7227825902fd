"""Train and score the four models at the papers' settings on one GPU (``experiment=
ped2_<model>_paper``, 2.5 minutes of training each), appending each row to ``bench/results.md``.

    python bench/ped2_gpu.py [--models unet stae roadmap joint] [hydra overrides...]
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("unet", "stae", "roadmap", "joint")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    args, overrides = parser.parse_known_args()
    for model in args.models:
        command = [sys.executable, "bench/ped2.py", "--model", f"{model}_paper", *overrides]
        print("+", shlex.join(command), flush=True)
        subprocess.run(command, cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
