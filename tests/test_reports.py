"""Visual reports (figures exist and are real images), logger hooks, and training statistics
stored with the model from train to predict."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from omegaconf import open_dict

from vad.errors import CheckpointError
from vad.models.checkpoint import load_model, read_score_stats
from vad.scoring.metrics import evaluate
from vad.tasks.predict import predict
from vad.tasks.train import train
from vad.visualization.curves import anomalous_spans
from vad.visualization.examples import top_frames
from vad.visualization.loggers import log_figures
from vad.visualization.report import write_report


def _assert_image(path: Path, min_size: tuple[int, int] = (150, 150)) -> None:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, f"{path} is not a readable image"
    assert image.shape[0] >= min_size[0] and image.shape[1] >= min_size[1], path
    assert image.std() > 5, f"{path} is blank"


def _frame_table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    parts = []
    for v, n in (("01", 60), ("02", 40), ("03", 50)):
        labels = np.zeros(n, dtype=int)
        labels[n // 2 : n // 2 + 10] = 1 if v != "03" else 0
        frames = np.arange(n) + (100 if v == "02" else 0)
        score = rng.random(n) * 0.3 + labels * 0.6
        parts.append(pd.DataFrame({"video": v, "frame": frames, "score": score, "label": labels}))
    return pd.concat(parts, ignore_index=True)


@pytest.mark.slow
def test_report_figures_and_markdown(tmp_path: Path) -> None:
    frame = _frame_table()
    summary, videos = evaluate(frame)
    figures = write_report(frame, summary, videos, tmp_path, protocol="test score")
    assert {"roc", "pr", "score_curves", "videos/01", "videos/02", "videos/03"} <= set(figures)
    for path in figures.values():
        _assert_image(path)
    report = (tmp_path / "report.md").read_text()
    links = re.findall(r"\]\(([^)]+\.png)\)", report)
    assert len(links) >= 6 and all((tmp_path / link).is_file() for link in links)
    assert f"| micro AUC (frames pooled) | {summary['micro_auc']:.4f} |" in report
    assert "| 03 | 50 | 0 | n/a |" in report  # a one-class video has no AUC
    # deterministic: drawing again gives the same bytes
    again = write_report(frame, summary, videos, tmp_path / "again")
    assert figures["roc"].read_bytes() == again["roc"].read_bytes()


def test_spans_and_top_frames() -> None:
    spans = anomalous_spans(np.array([1, 2, 3, 5, 6, 7, 8]), np.array([1, 1, 0, 1, 1, 0, 1]))
    assert spans == [(1, 2), (5, 6), (8, 8)]
    assert anomalous_spans(np.array([1, 2, 4]), np.array([1, 1, 1])) == [(1, 2), (4, 4)]
    frame = pd.DataFrame(
        {
            "video": ["a"] * 6 + ["b"] * 2,
            "frame": [0, 1, 2, 3, 30, 31, 0, 1],
            "score": [9.0, 8.0, 7.0, 0.0, 6.0, 1.0, 5.0, 10.0],
            "filled": [0, 0, 0, 0, 0, 0, 0, 1],
        }
    )
    picks = top_frames(frame, k=3, min_gap=10)
    assert list(zip(picks["video"], picks["frame"], strict=True)) == [("a", 0), ("a", 30), ("b", 0)]


class _ImageLogger:
    def __init__(self) -> None:
        self.calls = []

    def log_image(self, key, images, step=None):
        self.calls.append((key, images))


class _Board:
    def __init__(self) -> None:
        self.images = {}

    def add_image(self, tag, image, global_step=0, dataformats="CHW"):
        self.images[tag] = (image.shape, dataformats)


class _BoardLogger:
    def __init__(self) -> None:
        self.experiment = _Board()


def test_log_figures_reaches_image_loggers(tmp_path: Path) -> None:
    frame = _frame_table()
    summary, videos = evaluate(frame)
    figures = write_report(frame, summary, videos, tmp_path)
    wandb_like, board, csv_like = _ImageLogger(), _BoardLogger(), object()
    count = log_figures([wandb_like, board, csv_like], {"roc": figures["roc"]})
    assert count == 2
    assert wandb_like.calls == [("roc", [str(figures["roc"])])]
    shape, layout = board.experiment.images["roc"]
    assert layout == "HWC" and shape[2] == 3


@pytest.mark.slow
def test_train_stores_statistics_and_predict_reports(make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg("train", ["scoring.report.top_k=3"])
    train(cfg)
    run = Path(cfg.paths.output_dir)
    model, _ = load_model(run)
    stats = read_score_stats(run)
    # exact: one stored dict read back (checkpoint, JSON: float repr round-trips)
    assert model.fitted.score_stats == stats and stats["split"] == "val"
    assert set(stats["columns"]) == {"mse", "psnr", "patch_max", "location_z"}
    assert json.loads((run / "score_stats.json").read_text()) == stats
    val = pd.read_csv(run / "val_scores.csv", dtype={"video": str})
    assert stats["videos"] == sorted(val["video"].unique().tolist())  # held-out normal videos
    assert stats["frames"] == int((val["filled"] == 0).sum())
    for name in ("report.md", "figures/roc.png", "figures/top_frames.png"):
        assert (run / name).is_file()
    tops = sorted((run / "figures" / "top").glob("*.png"))
    assert len(tops) == 3
    for path in [*tops, run / "figures" / "top_frames.png", run / "figures" / "score_curves.png"]:
        _assert_image(path)

    results = {}
    for name, extra in (
        ("raw", ["scoring.patch_size=4"]),
        ("train_stats", ["scoring.smoothing.sigma=0"]),
    ):
        pcfg = make_cfg("predict", [f"ckpt_path={run}", f"scoring={name}", *extra])
        with open_dict(pcfg):
            pcfg.paths.output_dir = str(tmp_path / name)
        predict(pcfg)
        results[name] = json.loads((tmp_path / name / "metrics.json").read_text())
    assert results["train_stats"]["score"]["normalization"] == "train_zscore"
    # scoring.patch_size changes only the patch_max column
    trained = pd.read_csv(run / "scores.csv", dtype={"video": str})
    small = pd.read_csv(tmp_path / "raw" / "scores.csv", dtype={"video": str})
    assert np.allclose(small["mse"], trained["mse"], rtol=1e-5)
    assert (small["patch_max"] > trained["patch_max"] * 1.01).mean() > 0.5
    for key in ("micro_auc", "macro_auc", "ap", "eer"):  # one increasing affine map
        assert results["train_stats"][key] == pytest.approx(results["raw"][key], abs=1e-6)


@pytest.mark.slow
def test_predict_fits_statistics_for_an_old_checkpoint(make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg("train", ["test=false", "scoring.train_stats=never"])
    train(cfg)
    ckpt = Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt"
    assert read_score_stats(ckpt) is None
    ckpt.chmod(0o640)
    overrides = [f"ckpt_path={ckpt}", "scoring=train_stats", "scoring.report.enabled=false"]
    refuse = make_cfg("predict", [*overrides, "scoring.train_stats=never"])
    with pytest.raises(CheckpointError, match="none are stored"):
        predict(refuse)
    pcfg = make_cfg("predict", overrides)
    with open_dict(pcfg):
        pcfg.paths.output_dir = str(tmp_path / "predict")
    predict(pcfg)
    stored = read_score_stats(ckpt)
    assert ckpt.stat().st_mode & 0o777 == 0o640  # rewritten in place, permissions kept
    assert stored["columns"]["psnr"]["frames"] == stored["frames"] > 0
    assert (tmp_path / "predict" / "score_stats.json").is_file()
    assert not (tmp_path / "predict" / "report.md").exists()


def test_the_top_frames_grid_shares_one_heat_scale(tmp_path: Path, monkeypatch) -> None:
    import vad.visualization.examples as examples_module

    scales: list[float] = []
    show = examples_module._show

    def recording(ax, image, title, **kwargs):
        if kwargs.get("cmap") == "inferno":
            scales.append(kwargs["vmax"])
        return show(ax, image, title, **kwargs)

    monkeypatch.setattr(examples_module, "_show", recording)
    frame = np.zeros((8, 8, 1), np.uint8)
    made = [
        examples_module.Example("v", i, 1.0, 1, frame, np.zeros((8, 8, 1)), np.full((8, 8), peak))
        for i, peak in enumerate((0.1, 0.4))
    ]
    paths, grid = examples_module.write_examples(made, tmp_path / "examples")
    assert grid is not None and grid.is_file() and len(paths) == 2
    # exact: every scale is a map's maximum, copied
    assert scales[:2] == [0.1, 0.4]  # each example's own figure: its own scale
    assert scales[2:] == [0.4, 0.4]  # the grid: one scale for every row
