"""Choose STAE's score mix on sped-up copies of the held-out normal videos.

python -m vad.cli.stae_mix <run folder or checkpoint> [--factors 2 3] [--output table.csv]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from vad.io.atomic import write_csv
from vad.tasks.report import console
from vad.tasks.stae_mix import select_mix


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="STAE training run folder or .ckpt file")
    parser.add_argument("--factors", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--aggregate", choices=["mean", "max"], default="mean")
    parser.add_argument("--output", type=Path, help="also write the table to this CSV file")
    parser.add_argument(
        "--uncalibrated", action="store_true", help="score without the position calibration"
    )
    args = parser.parse_args(argv)
    calibrate = False if args.uncalibrated else None
    table = select_mix(args.checkpoint, args.factors, args.aggregate, calibrate)
    console.print(table.to_string(index=False, float_format="%.4f"))
    mean = table[table["factor"] == "mean"]
    best = mean.loc[mean["micro_auc"].idxmax()]
    console.print(
        f"best mix on pseudo-anomalies: reconstruction {1 - best['prediction_weight']:g}, "
        f"prediction {best['prediction_weight']:g} (mean micro AUC {best['micro_auc']:.4f})"
    )
    if args.output:
        write_csv(table, args.output, index=False, float_format="%.6f")


if __name__ == "__main__":
    main()
