"""The density member's kNN search against the size of its feature bank.

    python bench/knn_scale.py [--rows 10000 100000 1000000] [--dims 3 40] [--queries 2000]

A bank holds one row per training object (about 4 per frame on Ped2: an hour of footage at 25
fps is ~360k rows). For each bank size and feature width, a random bank is searched by
``FeatureBank.distances`` (the model's own path: a k-d tree up to ``TREE_MAX_DIMS`` dimensions,
chunked ``torch.cdist`` above) for the k=1 distance of ``--queries`` objects, and the row says
the queries per second (first search, with the tree's build, and later searches), the objects
per frame that allows at 25 frames/s, and the bank's memory. The preset's joint density is 2-3
dimensions (speed and box size); 40 stands for a bank with appearance features.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from vad.models.density.bank import TREE_MAX_DIMS, FeatureBank  # noqa: E402

SECTION = "Density kNN against bank size (`bench/knn_scale.py`)"
HEADER = (
    "**Protocol:** no score is evaluated (speed only, random banks). Queries/s of the k=1 "
    "distance through `FeatureBank.distances`, 2 CPU threads; `first` includes building the "
    "k-d tree; `objects per frame at 25 fps` = later queries/s / 25.\n\n"
    "| date | bank rows | dims | search | bank MB | first queries/s | queries/s | "
    "objects per frame at 25 fps | command |\n|---|---|---|---|---|---|---|---|---|\n"
)
COMMAND = "`python bench/knn_scale.py`"


def measure(rows: int, dims: int, queries: int) -> tuple[float, float, float]:
    """Queries/s of the first search and of the best of three later ones, and the bank's MB."""
    generator = torch.Generator().manual_seed(rows + dims)
    bank = FeatureBank()
    bank.fit({"joint": torch.randn(rows, dims, generator=generator)})
    query = torch.randn(queries, dims, generator=generator)
    start = time.perf_counter()
    bank.distances("joint", query, 1)
    first = queries / (time.perf_counter() - start)
    later = 0.0
    for _ in range(3):
        start = time.perf_counter()
        bank.distances("joint", query, 1)
        later = max(later, queries / (time.perf_counter() - start))
    return first, later, rows * dims * 4 / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[3, 40])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    lines = []
    for dims in args.dims:
        search = "k-d tree" if dims <= TREE_MAX_DIMS else "chunked cdist"
        for rows in args.rows:
            first, later, megabytes = measure(rows, dims, args.queries)
            line = (
                f"| {time.strftime('%Y-%m-%d')} | {rows:,} | {dims} | {search} | "
                f"{megabytes:.0f} | {first:,.0f} | {later:,.0f} | {later / 25:,.0f} | {COMMAND} |\n"
            )
            print(line, end="", flush=True)
            lines.append(line)
    if not args.no_record:
        record(SECTION, HEADER, "".join(lines))


if __name__ == "__main__":
    main()
