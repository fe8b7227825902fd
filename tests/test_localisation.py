"""Localisation end to end: pixel maps collected by the scorer, stored, evaluated, reported."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import open_dict

from tests.shanghaitech_tree import make_shanghaitech_tree
from tests.trained_runs import unet_run_fixture  # noqa: F401
from vad.data.cache import CachedVideo
from vad.models.base import Prediction
from vad.models.region_scores import LOG_FLOOR, region_map
from vad.scoring.options import ScoringConfigError, ScoringOptions
from vad.scoring.pixel_maps import MAPS_DIR, MapWriter, evaluate_maps
from vad.tasks.predict import predict
from vad.tasks.train import train
from vad.visualization.report import write_report

PIXEL_KEYS = ("pixel_auroc", "ucsd_pixel_rd", "ucsd_pixel_auc", "rbdc", "tbdc")


@pytest.mark.slow
def test_a_trained_run_has_maps_and_pixel_metrics(unet_run: Path) -> None:
    metrics = json.loads((unet_run / "metrics.json").read_text())
    for key in PIXEL_KEYS:
        assert 0.0 <= metrics[key] <= 1.0, key
    assert metrics["pixel_frames"] == metrics["frames"]
    scores = pd.read_csv(unet_run / "scores.csv", dtype={"video": str})
    for video, rows in scores.groupby("video"):
        maps = np.load(unet_run / MAPS_DIR / f"{video}.npy")
        assert maps.shape == (len(rows), 32, 32) and np.isfinite(maps).all()
        assert maps.dtype == np.float16 and (maps >= 0).all()


@pytest.mark.slow
def test_pixel_false_stores_no_maps(unet_run: Path, make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg("predict", [f"ckpt_path={unet_run}", "scoring.pixel=false"])
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp_path / "predict")
    predict(cfg)
    metrics = json.loads((tmp_path / "predict" / "metrics.json").read_text())
    assert not (tmp_path / "predict" / MAPS_DIR).exists()
    assert not set(PIXEL_KEYS) & set(metrics)
    with pytest.raises(ScoringConfigError, match=r"scoring.pixel='yes' must be true or false"):
        ScoringOptions.from_config({"pixel": "yes"})


def _video(name: str, ids: list[int], masks: str) -> CachedVideo:
    ids = np.asarray(ids, dtype=np.int64)
    return CachedVideo("test", name, name, Path(name), ids, ids, None, pd.DataFrame(), masks=masks)


def _prediction(video: str, ids: list[list[int]], values: list[list[float]]) -> Prediction:
    maps = torch.tensor(values, dtype=torch.float32)[..., None, None].expand(-1, -1, 2, 3)
    frames = torch.zeros(len(ids), len(ids[0]), 1, 2, 3)
    out = Prediction(frames, frames, maps=maps.clone())
    out.video, out.frame_ids = [video] * len(ids), torch.tensor(ids)
    return out


def test_map_writer_averages_clips_and_fills_unscored_frames(tmp_path: Path) -> None:
    """Frame 11 is in two clips (mean of 2 and 4); frame 10 no clip scored (nearest: 11)."""
    writer = MapWriter(tmp_path, [_video("a", [10, 11, 12, 13], "masks/a"), _video("b", [0], "")])
    trainer = SimpleNamespace(world_size=1)
    out = _prediction("a", [[11, 12], [11, 13]], [[2.0, 5.0], [4.0, 7.0]])
    writer.write_on_batch_end(trainer, None, out, None, None, 0, 0)
    writer.on_predict_end(trainer, None)
    maps = np.load(tmp_path / MAPS_DIR / "a.npy")
    assert maps.shape == (4, 2, 3)
    assert maps[:, 0, 0].tolist() == [3.0, 3.0, 5.0, 7.0]  # exact: (2 + 4) / 2 and copies
    assert not (tmp_path / MAPS_DIR / "b.npy").exists()  # no masks: not collected


def test_report_lists_the_pixel_metrics(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "video": ["1"] * 4,
            "frame": range(4),
            "score": [0.1, 0.2, 0.8, 0.9],
            "label": [0, 0, 1, 1],
        }
    )
    frame["label"] = [0, 0, 1, 1]
    per_video = pd.DataFrame([{"video": "1", "frames": 4, "anomalous": 2, "auc": 1.0}])
    summary = {"micro_auc": 1.0, "pixel_auroc": 0.75, "rbdc": 0.5, "tbdc": 0.25}
    write_report(frame, summary, per_video, tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "| pixel AUROC (pixels pooled) | 0.7500 |" in text
    assert "| RBDC (region-based detection" in text and "0.2500" in text


@pytest.mark.slow
def test_shanghaitech_trains_and_localises_end_to_end(make_cfg, tmp_path: Path) -> None:
    """The done-when of the ShanghaiTech layout: train.py on a tree of the distributed shape."""
    root = make_shanghaitech_tree(tmp_path / "shanghaitech", train_as="frames")
    cfg = make_cfg(
        "train",
        ["data=shanghaitech", f"data.root={root}", "data.image_size=[32,32]", "data.val_videos=1"],
    )
    train(cfg)
    out = Path(cfg.paths.output_dir)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["frames"] == 36 and metrics["anomalous_frames"] == 10
    assert 0.0 <= metrics["pixel_auroc"] <= 1.0 and metrics["pixel_frames"] == 36
    scores = pd.read_csv(out / "scores.csv", dtype={"video": str})
    assert sorted(scores["video"].unique()) == ["01_0014", "01_0015", "02_0128"]
    videos = [v for v in _cached_test_videos(cfg)]
    again = evaluate_maps(out / MAPS_DIR, videos)
    assert again["pixel_auroc"] == pytest.approx(metrics["pixel_auroc"])


def _cached_test_videos(cfg) -> list[CachedVideo]:
    from vad.tasks.instantiate import instantiate_datamodule

    datamodule = instantiate_datamodule(cfg.data, cfg.get("preprocess"))
    return datamodule.videos("test")


def test_bad_pixel_sigma_is_named() -> None:
    with pytest.raises(ScoringConfigError, match=r"scoring.pixel_sigma must be >= 0"):
        ScoringOptions.from_config({"pixel_sigma": -1})
    with pytest.raises(ScoringConfigError, match=r"scoring.pixel_sigma='wide' must be a number"):
        ScoringOptions.from_config({"pixel_sigma": "wide"})


@pytest.mark.slow
def test_predict_scores_as_the_training_run_did(make_cfg, tmp_path: Path) -> None:
    """A run trained with scoring.column=mse is scored with mse by predict.py, unless the command
    line names another column."""
    cfg = make_cfg("train", ["scoring.column=mse", "scoring.report.enabled=false"])
    train(cfg)
    run = Path(cfg.paths.output_dir)
    for extra, column in (([], "mse"), (["scoring.column=psnr"], "psnr")):
        pcfg = make_cfg("predict", [f"ckpt_path={run}", "scoring.report.enabled=false", *extra])
        with open_dict(pcfg):
            pcfg.paths.output_dir = str(tmp_path / column)
        predict(pcfg)
        assert (
            json.loads((tmp_path / column / "metrics.json").read_text())["score"]["column"]
            == column
        )


def test_region_map_paints_each_box_with_its_score() -> None:
    maps = torch.zeros(1, 4, 8)
    maps[0, :2, :4] = 1.0  # box 0 (left half, top rows) has error 1 in its top half
    boxes = torch.tensor([[[0.0, 0.0, 0.5, 1.0], [0.25, 0.0, 0.75, 0.5], [float("nan")] * 4]])
    mean, std = torch.tensor(0.0), torch.tensor(1.0)
    painted = region_map(maps, boxes, mean, std)[0]
    z0, z1 = np.log(0.5), np.log(0.5)  # mean error of box 0: 8 / 16; box 1: 4 / 8
    floor = np.log(LOG_FLOOR)
    assert painted[3, 0].item() == pytest.approx(z0)
    assert painted[0, 3].item() == pytest.approx(max(z0, z1))
    assert painted[3, 7].item() == pytest.approx(floor)  # outside every box
    assert painted[0, 5].item() == pytest.approx(z1)


@pytest.mark.slow
def test_region_scoring_adds_a_region_map(make_cfg) -> None:
    regions = ["model.regions=true", "data.regions.min_area=4", "data.regions.resolution=cache"]
    cfg = make_cfg("train", [*regions, "scoring.report.enabled=false"])
    train(cfg)
    out = Path(cfg.paths.output_dir)
    metrics = json.loads((out / "metrics.json").read_text())
    assert (out / MAPS_DIR / "region").is_dir()
    for key in PIXEL_KEYS:
        assert 0.0 <= metrics[f"region_{key}"] <= 1.0, key
