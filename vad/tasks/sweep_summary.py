"""Hydra callback of ensemble sweeps: the summary of a finished multirun
(``vad.ensembles.sweep``) and a re-run of its best job with report and figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict

from vad.ensembles.sweep import Job, summarize_sweep
from vad.io.atomic import write_text
from vad.tasks.ensemble import ensemble


class SweepSummary(Callback):
    """Writes the sweep summary at the end of a multirun (see the module docstring)."""

    def __init__(self, rerun_best: bool = True) -> None:
        self.rerun_best = rerun_best
        self.job_dirs: set[Path] = set()

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.job_dirs.clear()

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        """Remember this sweep's job folders (jobs launched in this process)."""
        self.job_dirs.add(Path(str(config.hydra.runtime.output_dir)).resolve())

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        summarize_sweep(sweep_dir, rerun if self.rerun_best else None, self.job_dirs or None)


def rerun(job: Job, output_dir: Path, summary: dict[str, Any]) -> None:
    """Run the job's config again into ``output_dir`` with its report and figures; the report
    starts with what the sweep says about it."""
    cfg = OmegaConf.load(job.folder / ".hydra/config.yaml")
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        cfg.report = "true"
    ensemble(cfg)
    report = output_dir / "report.md"
    note = (
        f"> Best of {summary['valid_jobs']} sweep jobs (job {job.num}) by "
        f"`{summary['objective']}`. Report the metrics on {summary['report']['on']}, "
        "as in `../summary.yaml`"
    )
    if "folds" in job.result:
        note += (
            "; the fused scores' numbers below are optimistic, since this configuration was "
            "chosen on all videos"
        )
    write_text(note + ".\n\n" + report.read_text(), report)
