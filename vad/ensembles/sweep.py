"""The summary of an ensemble sweep (written by ``vad.tasks.sweep_summary.SweepSummary``, a Hydra
callback, when a multirun ends).

Every job of ``python ensemble.py -m ...`` (basic or Optuna sweeper) writes ``metrics.json`` into
its folder. At the end of the multirun the sweep folder gets

    summary.csv       one row per job: swept parameters, the tune objective, the held-out metrics;
                      best first (invalid jobs last)
    best_config.yaml  the best job's config (``python ensemble.py --config-path <sweep folder>
                      --config-name best_config`` re-runs it)
    summary.yaml      objective, protocol, the best job and what to report for it
    cv_folds.csv      with ``cv_folds``: per fold, the job chosen on the other folds and its
                      metrics on the held-out fold
    best/             the best configuration re-run with its report and figures

What to report: with a tune/eval split, the *eval* metrics of the job that is best on the *tune*
videos (the selection never saw the eval videos). With ``cv_folds=k``, the jobs of the sweep are
the inner grid: for each fold, the job with the best objective on the other k-1 folds is scored on
the held-out fold; the mean ± std over folds estimates what tuning on unseen videos gives. The
best config for a submission is then the best on all labelled videos. With Optuna the trials are
chosen adaptively from the values of all folds, so that estimate is slightly optimistic.
"""

from __future__ import annotations

import json
import logging
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from omegaconf import OmegaConf

from vad.ensembles.evaluation import REPORTED, mean_std
from vad.io.atomic import write_csv, write_text
from vad.utils.console import console

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One finished job of the sweep."""

    num: int
    folder: Path
    overrides: list[str]
    result: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.result.get("status") == "ok"


def read_jobs(sweep_dir: Path, only: set[Path] | None = None) -> list[Job]:
    """Jobs of a sweep folder (sub-folders with ``.hydra/overrides.yaml``), by job number;
    ``only``: keep these folders (leaves out folders of an earlier sweep into the same place)."""
    jobs = []
    for overrides in sorted(sweep_dir.glob("*/.hydra/overrides.yaml")):
        folder = overrides.parent.parent
        if only is not None and folder.resolve() not in only:
            continue
        metrics = folder / "metrics.json"
        result = json.loads(metrics.read_text()) if metrics.is_file() else {"status": "no metrics"}
        num = int(folder.name) if folder.name.isdigit() else len(jobs)
        jobs.append(Job(num, folder, [str(o) for o in OmegaConf.load(overrides)], result))
    return sorted(jobs, key=lambda j: j.num)


def summarize_sweep(
    sweep_dir: Path,
    rerun: Callable[[Job, Path, dict[str, Any]], None] | None = None,
    job_dirs: set[Path] | None = None,
) -> dict[str, Any] | None:
    """Write the summary files of a finished sweep; returns the ``summary.yaml`` content.
    ``rerun(best job, folder, summary)`` re-runs the best job into ``<sweep>/best``."""
    jobs = read_jobs(sweep_dir, job_dirs)
    ok = [j for j in jobs if j.ok]
    if not ok:
        log.warning("%s: no job produced metrics (labels needed); no summary written", sweep_dir)
        return None
    first = ok[0].result
    objective, direction = first["objective"], first["direction"]
    used = {name for j in ok for name in j.result.get("members", {})}
    swept, fixed = _swept_keys(jobs, used)
    value_name = f"all_{objective}" if "folds" in first else f"tune_{objective}"
    table = summary_table(jobs, swept, value_name, direction)
    write_csv(table, sweep_dir / "summary.csv", float_format="%.6f")
    best = next(j for j in ok if j.num == int(table.iloc[0]["job"]))
    write_text((best.folder / ".hydra/config.yaml").read_text(), sweep_dir / "best_config.yaml")
    summary = {
        "objective": objective,
        "direction": direction,
        "protocol": first["protocol"],
        "jobs": len(jobs),
        "valid_jobs": len(ok),
        "fixed": fixed,
        "best": {
            "job": best.num,
            "params": _params(best.overrides, swept),
            "value": best.result["value"],
            "command": _command(best.overrides),
        },
    }
    summary["report"] = _what_to_report(ok, best, sweep_dir, direction)
    write_text(
        yaml.safe_dump(summary, sort_keys=False, allow_unicode=True), sweep_dir / "summary.yaml"
    )
    _print(table, summary, sweep_dir)
    if rerun is not None:
        rerun(best, sweep_dir / "best", summary)
    return summary


def summary_table(
    jobs: list[Job], swept: list[str], value_name: str, direction: str
) -> pd.DataFrame:
    """One row per job, the best (by the value the job returned, ``value_name``) first, invalid
    jobs last."""
    rows = []
    for job in jobs:
        row: dict[str, Any] = {"job": job.num, "status": job.result.get("status", "")}
        row.update(_params(job.overrides, swept))
        row["value"] = job.result.get("value", float("nan"))
        for key in REPORTED:
            if "eval" in job.result:
                row[f"eval_{key}"] = job.result["eval"].get(key)
        rows.append(row)
    table = pd.DataFrame(rows)
    table["_invalid"] = table["status"] != "ok"
    ascending = direction == "minimize"
    table = table.sort_values(["_invalid", "value", "job"], ascending=[True, ascending, True])
    return (
        table.drop(columns="_invalid").rename(columns={"value": value_name}).reset_index(drop=True)
    )


def cross_validate(jobs: list[Job], direction: str) -> dict[str, Any]:
    """Per fold, the job best on the other folds and its metrics on the held-out fold."""
    folds = [[tuple(f["eval"]["videos"]) for f in j.result["folds"]] for j in jobs]
    if any(f != folds[0] for f in folds):
        raise ValueError("the jobs use different folds (seed or cv_folds swept): no common CV")
    rows = []
    for i, videos in enumerate(folds[0]):
        sign = -1 if direction == "maximize" else 1
        chosen = min(jobs, key=lambda j: (sign * j.result["folds"][i]["tune_value"], j.num))
        fold = chosen.result["folds"][i]
        held_out = {k: fold["eval"][k] for k in REPORTED}
        rows.append(
            {
                "fold": i + 1,
                "job": chosen.num,
                "tune_value": fold["tune_value"],
                **held_out,
                "eval_videos": " ".join(videos),
            }
        )
    return {"folds": rows, "mean_std": mean_std(rows)}


def _what_to_report(ok: list[Job], best: Job, sweep_dir: Path, direction: str) -> dict[str, Any]:
    if "folds" not in best.result:
        eval_block = best.result["eval"]
        return {
            "on": f"eval videos {eval_block['videos']} (the best job was chosen on the tune videos "
            f"{best.result['tune']['videos']})",
            "metrics": {k: eval_block[k] for k in REPORTED},
        }
    try:
        cv = cross_validate([j for j in ok if "folds" in j.result], direction)
    except ValueError as exc:
        return {"on": f"no cross-validated estimate: {exc}"}
    write_csv(pd.DataFrame(cv["folds"]), sweep_dir / "cv_folds.csv", float_format="%.6f")
    return {
        "on": f"held-out folds, {len(cv['folds'])}-fold cross-validation by video: the sweep's "
        "jobs are the inner grid, searched on the other folds (mean ± std over folds, ddof=1)",
        "metrics": cv["mean_std"],
    }


def _swept_keys(jobs: list[Job], members: set[str]) -> tuple[list[str], dict[str, str]]:
    """Override keys whose values differ between jobs, and the ones every job shares; the
    weights of members that no job uses are left out."""
    values: dict[str, set[str]] = {}
    for job in jobs:
        for key, value in _params(job.overrides).items():
            if key.startswith("weights.") and key.split(".", 1)[1] not in members:
                continue
            values.setdefault(key, set()).add(value)
    swept = [k for k, v in values.items() if len(v) > 1 or len(jobs) == 1]
    fixed = {k: next(iter(v)) for k, v in values.items() if k not in swept}
    return swept, fixed


def _command(overrides: list[str]) -> str:
    """The single run of a job's config (sweep-only overrides left out)."""
    kept = [o for o in overrides if not o.startswith(("hydra.", "hparams_search="))]
    return "python ensemble.py " + " ".join(shlex.quote(o) for o in kept)


def _params(overrides: list[str], keys: list[str] | None = None) -> dict[str, str]:
    pairs = dict(o.lstrip("+~").split("=", 1) for o in overrides if "=" in o)
    return pairs if keys is None else {k: pairs.get(k, "") for k in keys}


def _print(table: pd.DataFrame, summary: dict[str, Any], sweep_dir: Path) -> None:
    lines = [table.head(10).to_string(index=False, float_format=lambda v: f"{v:.4f}")]
    report = summary["report"]
    lines.append(f"best job {summary['best']['job']}: {summary['best']['params']}")
    lines.append(f"report on {report['on']}:")
    for key, value in (report.get("metrics") or {}).items():
        text = (
            f"{value['mean']:.4f} ± {value['std']:.4f}"
            if isinstance(value, dict)
            else f"{value:.4f}"
        )
        lines.append(f"  {key}: {text}")
    lines.append(f"sweep summary: {sweep_dir / 'summary.csv'}, {sweep_dir / 'summary.yaml'}")
    console.print("\n".join(lines), soft_wrap=True, highlight=False)
