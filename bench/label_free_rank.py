"""Does the label-free validation score rank runs as their test AUC does? One row per dataset.

    python bench/label_free_rank.py                  # every finished run under outputs/bench/
    python bench/label_free_rank.py --no-record

For every run of ``bench/ped2.py`` (``outputs/bench/<dataset>_<model>/<run>``) that logged both,
the final ``val/pseudo_auc`` (held-out normal validation videos with pseudo-anomalies, no label)
and ``test/micro_auc`` (the run's own scoring protocol) are paired; the row gives the number of
runs, Spearman's rank correlation over all of them and within each model that has three or more.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402

SECTION = "Label-free score against test AUC, over runs (`bench/label_free_rank.py`)"
HEADER = (
    "| dataset | runs | Spearman (all runs) | Spearman within a model (runs) | label-free range | "
    "test micro AUC range | command |\n|---|---|---|---|---|---|---|\n"
)


def pairs(dataset: str, outputs: Path) -> dict[str, list[tuple[float, float]]]:
    """model -> (label-free score, test micro AUC) of its finished runs on ``dataset``."""
    found: dict[str, list[tuple[float, float]]] = {}
    for path in sorted(outputs.glob(f"{dataset}_*/*/train_metrics.json")):
        metrics = json.loads(path.read_text())
        free, test = metrics.get("val/pseudo_auc"), metrics.get("test/micro_auc")
        if free is None or test is None:
            continue
        model = path.parent.parent.name.removeprefix(f"{dataset}_")
        found.setdefault(model, []).append((float(free), float(test)))
    return found


def row(dataset: str, found: dict[str, list[tuple[float, float]]]) -> str:
    everything = [p for runs in found.values() for p in runs]
    free, test = zip(*everything, strict=True)
    within = [
        f"{model} {spearmanr(*zip(*runs, strict=True)).statistic:+.2f} ({len(runs)})"
        for model, runs in sorted(found.items())
        if len(runs) >= 3
    ]
    cells = [
        dataset,
        str(len(everything)),
        f"{spearmanr(free, test).statistic:+.2f}",
        ", ".join(within) or "-",
        f"{min(free):.3f}-{max(free):.3f}",
        f"{min(test):.3f}-{max(test):.3f}",
        "`python bench/label_free_rank.py`",
    ]
    return "| " + " | ".join(cells) + " |\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outputs", type=Path, default=ROOT / "outputs" / "bench")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    rows = ""
    for dataset in ("ped1", "ped2"):
        found = pairs(dataset, args.outputs)
        if sum(len(runs) for runs in found.values()) >= 3:
            rows += row(dataset, found)
    if not rows:
        sys.exit(f"fewer than three finished runs with both scores under {args.outputs}")
    print(HEADER + rows)
    if not args.no_record:
        record(SECTION, HEADER, rows)


if __name__ == "__main__":
    main()
