"""Ensemble sweeps: a Hydra multirun writes its summary (tune/eval and cross-validated), the best
config re-runs to the same value, and the Optuna search composes and runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hydra import compose, initialize, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import open_dict

from tests.test_ensemble import noisy_member
from vad.tasks.ensemble import ensemble

ROOT = Path(__file__).resolve().parents[1]


def members(tmp_path: Path) -> list[str]:
    a, b = noisy_member(tmp_path / "a.csv", 1), noisy_member(tmp_path / "b.csv", 2)
    return [
        f"+members.unet.scores={a}",
        f"+members.joint.scores={b}",
        "+members.unet.column=mse",
        "+members.joint.column=mse",
    ]


def multirun(sweep_dir: Path, overrides: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "ensemble.py", "-m", f"hydra.sweep.dir={sweep_dir}", *overrides]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_multirun_writes_summary_and_best_config(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    multirun(sweep, [*members(tmp_path), "+weights.unet=0,1", "+weights.joint=0,1"])
    table = pd.read_csv(sweep / "summary.csv")
    assert len(table) == 4
    assert table["status"].tolist()[:3] == ["ok"] * 3 and table["status"].iloc[-1] == "invalid"
    values = table["tune_micro_auc"].iloc[:3].tolist()
    assert values == sorted(values, reverse=True)
    assert {"weights.unet", "weights.joint", "eval_micro_auc"} <= set(table.columns)
    summary = yaml.safe_load((sweep / "summary.yaml").read_text())
    best = table.iloc[0]
    assert summary["best"]["job"] == best["job"] and summary["protocol"] == "tune/eval"
    assert summary["report"]["metrics"]["micro_auc"] == pytest.approx(best["eval_micro_auc"])
    assert "eval videos" in summary["report"]["on"] and "tune videos" in summary["report"]["on"]
    assert (sweep / "best" / "report.md").is_file()
    assert (sweep / "best" / "figures" / "member_curves.png").is_file()
    assert not (sweep / "0" / "report.md").exists()  # jobs draw nothing
    # the best config re-runs to the same objective
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(sweep)):
        cfg = compose(config_name="best_config", return_hydra_config=False)
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp_path / "again")
        cfg.report = "false"
    assert ensemble(cfg) == pytest.approx(best["tune_micro_auc"])
    GlobalHydra.instance().clear()
    # a second sweep into the same folder summarises its own jobs only
    again = [
        "+weights.unet=1",
        "+weights.joint=1,2",
        "hydra.callbacks.sweep_summary.rerun_best=false",
    ]
    multirun(sweep, [*members(tmp_path), *again])
    assert pd.read_csv(sweep / "summary.csv")["weights.joint"].tolist() in ([1, 2], [2, 1])


@pytest.mark.slow
def test_multirun_cross_validates_the_grid(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    overrides = ["cv_folds=3", "+weights.unet=0,1", "+weights.joint=1,2"]
    multirun(
        sweep, [*members(tmp_path), *overrides, "hydra.callbacks.sweep_summary.rerun_best=false"]
    )
    folds = pd.read_csv(sweep / "cv_folds.csv", dtype={"eval_videos": str})
    assert folds["fold"].tolist() == [1, 2, 3]
    jobs = {int(j): json.loads((sweep / str(j) / "metrics.json").read_text()) for j in range(4)}
    for row in folds.itertuples():
        chosen = max(jobs, key=lambda j: (jobs[j]["folds"][row.fold - 1]["tune_value"], -j))
        assert row.job == chosen
        assert row.micro_auc == pytest.approx(
            jobs[chosen]["folds"][row.fold - 1]["eval"]["micro_auc"]
        )
    summary = yaml.safe_load((sweep / "summary.yaml").read_text())
    assert summary["report"]["metrics"]["micro_auc"]["mean"] == pytest.approx(
        folds["micro_auc"].mean()
    )
    assert "all_micro_auc" in pd.read_csv(sweep / "summary.csv").columns


def test_optuna_config_composes() -> None:
    GlobalHydra.instance().clear()
    with initialize(version_base="1.3", config_path="../conf"):
        cfg = compose("ensemble", ["hparams_search=ensemble_optuna"], return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_ == "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    assert sweeper.sampler._target_ == "optuna.samplers.TPESampler"
    assert sweeper.direction == "maximize" and sweeper.n_trials > 3
    assert {"++weights.unet", "normalization", "smoothing.sigma"} <= set(sweeper.params)
    GlobalHydra.instance().clear()


@pytest.mark.slow
def test_optuna_sweep_runs_three_trials(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    overrides = ["hparams_search=ensemble_optuna", "hydra.sweeper.n_trials=3"]
    multirun(
        sweep, [*members(tmp_path), *overrides, "hydra.callbacks.sweep_summary.rerun_best=false"]
    )
    table = pd.read_csv(sweep / "summary.csv")
    assert len(table) == 3 and (table["status"] == "ok").all()
    assert "weights.stae" not in table.columns  # no scores: its weight is not a parameter
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert best["best_value"] == pytest.approx(table["tune_micro_auc"].iloc[0])
