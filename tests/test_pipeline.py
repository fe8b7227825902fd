"""End to end: train -> checkpoints -> predict -> scores.csv -> ensemble -> submission.csv."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
from omegaconf import DictConfig, open_dict

from tests.helpers import write_frames
from vad.errors import CheckpointError
from vad.models.checkpoint import load_model
from vad.tasks.ensemble import ensemble
from vad.tasks.predict import predict
from vad.tasks.train import train


@pytest.mark.slow
def test_fast_dev_run_checks_the_pipeline_and_writes_no_results(make_cfg) -> None:
    cfg = make_cfg("train", ["debug=fdr"])
    assert train(cfg) is not None  # one training and one validation batch gave a val/loss
    run = Path(cfg.paths.output_dir)
    assert json.loads((run / "train_metrics.json").read_text())["steps"] == 1
    assert not (run / "scores.csv").exists()  # test: false


@pytest.mark.slow
def test_train_predict_ensemble(make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg("train")
    value = train(cfg)
    run = Path(cfg.paths.output_dir)
    assert value is not None and value > 0  # val/loss
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert (run / "checkpoints" / "best.ckpt").is_file()
    train_scores = pd.read_csv(run / "scores.csv", dtype={"video": str})

    pcfg = make_cfg("predict", [f"ckpt_path={run}"])
    with open_dict(pcfg):
        pcfg.paths.output_dir = str(tmp_path / "predict")
    predict(pcfg)
    scores = pd.read_csv(tmp_path / "predict" / "scores.csv", dtype={"video": str})
    # every frame of every test video, exactly once, with the layout's ids and labels
    _, meta = load_model(run)
    from hydra.utils import instantiate

    table = instantiate(meta["data"]).split_table("test")
    expected = [
        (v, int(f)) for v, ids in zip(table["video"], table["frame_ids"], strict=True) for f in ids
    ]
    assert list(zip(scores["video"], scores["frame"], strict=True)) == expected
    assert scores["label"].tolist() == [int(x) for labels in table["labels"] for x in labels]
    assert scores["filled"].sum() == 4 * len(table)  # the 4 warm-up frames of each video
    assert (tmp_path / "predict" / "metrics.json").is_file()
    pd.testing.assert_frame_equal(scores, train_scores, check_exact=False, rtol=1e-5)

    ecfg = make_cfg(
        "ensemble", [f"+members.unet.scores={tmp_path / 'predict'}", "smoothing.sigma=2"]
    )
    with open_dict(ecfg):
        ecfg.paths.output_dir = str(tmp_path / "ensemble")
    auc = ensemble(ecfg)
    assert 0 <= auc <= 1
    submission = pd.read_csv(tmp_path / "ensemble" / "submission.csv")
    assert list(submission.columns) == ["Id", "Predicted"]
    assert submission["Id"].tolist() == [f"{int(v)}_{f}" for v, f in expected]


@pytest.mark.slow
def test_resume_from_last_checkpoint(make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg("train", ["test=false"])
    train(cfg)
    last = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    first = torch.load(last, weights_only=False)
    assert first["epoch"] == 0
    resumed = make_cfg("train", ["test=false", "trainer.max_epochs=2", f"ckpt_path={last}"])
    with open_dict(resumed):
        resumed.paths.output_dir = str(tmp_path / "resumed")
    train(resumed)
    final = torch.load(tmp_path / "resumed" / "checkpoints" / "last.ckpt", weights_only=False)
    assert final["epoch"] == 1
    assert final["global_step"] == 2 * first["global_step"]


def _gappy_dataset(root: Path) -> dict[str, list[int]]:
    """A pixelplay-layout dataset whose test ids have gaps and trimmed starts."""
    test_ids = {
        "01": [3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 30, 31],
        "02": list(range(100, 112)),
    }
    for video in ("01", "02"):
        write_frames(root / "Dataset" / "training_videos" / video, range(16), "frame_{:05d}.jpg")
    for video, ids in test_ids.items():
        write_frames(root / "Dataset" / "testing_videos" / video, ids, "frame_{:05d}.jpg")
    return test_ids


@pytest.mark.slow
def test_original_frame_ids_survive_to_scores_and_submission(make_cfg, tmp_path: Path) -> None:
    test_ids = _gappy_dataset(tmp_path / "pixelplay")
    cfg = make_cfg(
        "train",
        [
            "data=pixelplay",
            f"data.root={tmp_path / 'pixelplay'}",
            "data.channels=1",
            "data.image_size=[32,32]",
            "data.val_videos=1",
        ],
    )
    train(cfg)
    scores = pd.read_csv(Path(cfg.paths.output_dir) / "scores.csv", dtype={"video": str})
    assert scores.groupby("video")["frame"].apply(list).to_dict() == test_ids
    # frames 30, 31 form a run shorter than a clip: they take the nearest scored frame's score
    last = scores[scores["video"] == "01"].set_index("frame")
    assert last.loc[30, "filled"] == 1 and last.loc[30, "psnr"] == last.loc[16, "psnr"]
    ecfg = make_cfg("ensemble", [f"+members.unet.scores={cfg.paths.output_dir}"])
    with open_dict(ecfg):
        ecfg.paths.output_dir = str(tmp_path / "ensemble")
    assert ensemble(ecfg) is None  # no labels: nothing to evaluate
    ids = pd.read_csv(tmp_path / "ensemble" / "submission.csv")["Id"].tolist()
    assert ids == [f"{int(v)}_{f}" for v in ("01", "02") for f in test_ids[v]]


def _one_batch_run(make_cfg) -> DictConfig:
    """The config of a trained one-batch run (a checkpoint to predict with)."""
    cfg = make_cfg("train", ["debug=fdr"])
    with open_dict(cfg):
        cfg.callbacks = {"model_checkpoint": cfg.callbacks.model_checkpoint}
        cfg.trainer.fast_dev_run = False
        cfg.test = False
    train(cfg)
    return cfg


@pytest.mark.slow
def test_predict_rejects_other_input_size(make_cfg, tmp_path: Path) -> None:
    cfg = _one_batch_run(make_cfg)
    pcfg = make_cfg(
        "predict",
        [f"ckpt_path={cfg.paths.output_dir}", "data=synthetic", "data.image_size=[48,48]"],
    )
    with pytest.raises(CheckpointError, match="image_size"):
        predict(pcfg)


@pytest.mark.slow
def test_predict_on_another_layout_keeps_the_settings_bound_to_the_model(
    make_cfg, tmp_path: Path
) -> None:
    cfg = _one_batch_run(make_cfg)
    layout = [f"data.layout.{k}" for k in ("n_train=3", "n_test=2", "n_frames=24", "width=64")]
    pcfg = make_cfg("predict", [f"ckpt_path={cfg.paths.output_dir}", "data=synthetic", *layout])
    assert list(pcfg.data.image_size) != [32, 32]  # the layout's default, not the model's
    predict(pcfg)  # image size and channels come from the checkpoint
    scores = pd.read_csv(Path(pcfg.paths.output_dir) / "scores.csv")
    assert scores["video"].nunique() == 2
