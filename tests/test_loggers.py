"""Experiment tracking: W&B offline runs (one per job, always finished), TensorBoard and CSV
logs with losses, learning rate, sample predictions, test metrics and figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from lightning.pytorch.callbacks import RichProgressBar
from omegaconf import open_dict
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.trained_runs import unet_run_fixture  # noqa: F401
from vad.callbacks.sample_images import spread_frames
from vad.errors import TrainingError
from vad.inference.engine import plain_video
from vad.tasks.instantiate import instantiate_dict
from vad.tasks.predict import predict
from vad.tasks.train import train

SAMPLES_EVERY_EPOCH = [
    "callbacks.sample_predictions.every_n_validations=1",
    "trainer.log_every_n_steps=1",
]


def _offline_run(output_dir: Path) -> Path:
    (run,) = (output_dir / "wandb").glob("offline-run-*")
    return run


@pytest.mark.slow
def test_wandb_offline_run_is_written_and_finished(
    make_cfg, monkeypatch: pytest.MonkeyPatch
) -> None:
    wandb = pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    cfg = make_cfg("train", ["logger=wandb", *SAMPLES_EVERY_EPOCH])
    train(cfg)
    assert wandb.run is None  # finished: the next job of a multirun starts its own run
    run = _offline_run(Path(cfg.paths.output_dir))
    assert list(run.glob("run-*.wandb"))
    media = run / "files" / "media"
    assert list((media / "images" / "samples").glob("predictions_*.png"))
    assert list((media / "images").glob("score_curves_*.png"))
    assert list((media / "table" / "test").glob("per_video_*.table.json"))


@pytest.mark.slow
def test_failed_run_finishes_its_wandb_run(
    make_cfg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wandb = pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    cfg = make_cfg("train", ["logger=wandb", "model.optimizer.lr=1e30", "model.scheduler=null"])
    with pytest.raises(TrainingError):
        train(cfg)
    assert wandb.run is None
    debug = (_offline_run(Path(cfg.paths.output_dir)) / "logs" / "debug.log").read_text()
    assert "got exitcode: 1" in debug


@pytest.mark.slow
def test_tensorboard_and_csv_logs(make_cfg) -> None:
    cfg = make_cfg(
        "train",
        ["logger=[csv,tensorboard]", "scoring.report.enabled=false", *SAMPLES_EVERY_EPOCH],
    )
    train(cfg)
    run = Path(cfg.paths.output_dir)
    events = EventAccumulator(str(run / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    tags = events.Tags()
    assert {"train/loss_step", "val/loss", "lr-Adam", "test/micro_auc"} <= set(tags["scalars"])
    assert "samples/predictions" in tags["images"]
    assert sorted(p.name for p in (run / "samples").glob("step_*.png"))
    metrics = pd.read_csv(run / "csv" / "metrics.csv")
    assert {"train/loss_step", "val/loss", "lr-Adam", "test/micro_auc"} <= set(metrics.columns)
    hparams = yaml.safe_load((run / "csv" / "hparams.yaml").read_text())
    assert hparams["model"]["_target_"] == "vad.models.unet.UNetModule"
    assert (run / "config_tree.yaml").is_file()


@pytest.mark.slow
def test_predict_logs_test_metrics(unet_run: Path, make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg(
        "predict", [f"ckpt_path={unet_run}", "logger=csv", "scoring.report.enabled=false"]
    )
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp_path / "predict")
    predict(cfg)
    metrics = pd.read_csv(tmp_path / "predict" / "csv" / "metrics.csv")
    assert metrics["test/micro_auc"].notna().any()


def test_default_callbacks_show_a_rich_progress_bar(make_cfg) -> None:
    cfg = make_cfg("train", tiny=False)
    callbacks = instantiate_dict(cfg.callbacks, "callback")
    assert any(isinstance(c, RichProgressBar) for c in callbacks)


def test_sample_frames_spread_over_all_videos() -> None:
    videos = [plain_video(f"v{i}", "", np.arange(10, 30)) for i in range(6)]
    picked = spread_frames(videos, clip_length=5, count=3)
    assert picked["video"].tolist() == ["v0", "v2", "v5"]  # first, middle, last video
    assert (picked["frame"] >= 14).all()  # a clip ends there
    assert spread_frames([], clip_length=5, count=3).empty


@pytest.mark.slow
def test_the_run_log_holds_what_the_console_showed_and_the_error(make_cfg) -> None:
    cfg = make_cfg("train", [])
    train(cfg)
    text = (Path(cfg.paths.output_dir) / "train.log").read_text()
    assert "trained 1 epochs" in text and "micro_auc" in text and "scores.csv" in text
    assert "train UNetModule (" in text and "parameters) on " in text  # the settings summary
    assert "\x1b[" not in text  # plain text, no terminal codes
    bad = make_cfg("train", ["trainer.max_epochs=0"])
    with open_dict(bad):
        bad.paths.output_dir = str(Path(cfg.paths.output_dir).parent / "failed")
    with pytest.raises(TrainingError):
        train(bad)
    text = (Path(bad.paths.output_dir) / "train.log").read_text()
    assert "Traceback" in text and "saved no checkpoint" in text


def test_progress_passes_every_item_through_in_order() -> None:
    from vad.utils.console import progress

    assert list(progress(iter(range(5)), 5, "frame cache")) == [0, 1, 2, 3, 4]
    assert list(progress([7], 1, "one item: no bar")) == [7]
