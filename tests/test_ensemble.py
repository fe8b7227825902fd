"""Ensemble fusion on hand-made score files: fusion math, rank ties, member checks, smoothing per
video, train-statistics lookup, tune/eval splits and folds, submission format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf, open_dict

from vad.ensembles import members as member_files
from vad.ensembles.ensemble_options import EnsembleConfigError, EnsembleOptions, ZeroWeightsError
from vad.ensembles.fusion import fuse, normalized_weights
from vad.ensembles.members import clear_cache
from vad.ensembles.normalize import clear_normalized_cache, per_video_rank, scaled_rank
from vad.ensembles.splits import kfold_splits, tune_eval_split
from vad.ensembles.stats import clear_stats_cache
from vad.errors import ScoreFileError, VADError
from vad.io.scores import SCORING_FILE
from vad.models.checkpoint import STATS_STATE_KEY
from vad.scoring.smoothing import gaussian_smooth
from vad.scoring.train_stats import column_statistics
from vad.tasks.ensemble import ensemble

LABELS = {  # video -> labels; "04" is all anomalous (one-class)
    "01": [0] * 6 + [1] * 4 + [0] * 6,
    "02": [0] * 8 + [1] * 8,
    "03": [1] * 5 + [0] * 11,
    "04": [1] * 16,
}


def write_member(
    path: Path,
    values: dict[str, list[float]],
    column: str = "mse",
    labels: dict[str, list[int]] | None = LABELS,
) -> Path:
    """A ``scores.csv`` with frame ids 100.. per video (rows shuffled on purpose); ``labels``
    None writes no label column."""
    rows = []
    for video, scores in values.items():
        for i, score in enumerate(scores):
            row = {"video": video, "frame": 100 + i, column: score, "filled": 0}
            if labels is not None:
                row["label"] = labels[video][i] if video in labels else 0
            rows.append(row)
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def noisy_member(path: Path, seed: int, column: str = "mse") -> Path:
    """Scores = label + noise, so every member is informative but imperfect."""
    rng = np.random.default_rng(seed)
    values = {v: (np.array(y) + rng.normal(0, 0.8, len(y))).tolist() for v, y in LABELS.items()}
    return write_member(path, values, column)


@pytest.fixture(autouse=True)
def _fresh_caches():
    for clear in (clear_cache, clear_normalized_cache, clear_stats_cache):
        clear()
    yield


def run(make_cfg, tmp_path: Path, overrides: list[str]) -> tuple[float | None, Path]:
    cfg = make_cfg("ensemble", ["report=false", "smoothing.sigma=0", *overrides])  # by-hand sums
    out = tmp_path / "out"
    with open_dict(cfg):
        cfg.paths.output_dir = str(out)
    return ensemble(cfg), out


def test_weighted_mean_normalises_weights() -> None:
    columns = {"a": np.array([0.0, 1.0, 0.5]), "b": np.array([1.0, 0.0, 0.5])}
    assert normalized_weights({"a": 3, "b": 1}) == {"a": 0.75, "b": 0.25}
    np.testing.assert_allclose(fuse(columns, {"a": 3, "b": 1}), [0.25, 0.75, 0.5])
    np.testing.assert_allclose(fuse(columns, {"a": 0, "b": 2}), columns["b"])
    np.testing.assert_allclose(fuse(columns, {"a": 1, "b": 0}, "max"), columns["a"])
    np.testing.assert_allclose(fuse(columns, {"a": 1, "b": 1}, "max"), [1.0, 1.0, 0.5])
    with pytest.raises(ZeroWeightsError, match="weight 0"):
        fuse(columns, {"a": 0, "b": 0})
    with pytest.raises(EnsembleConfigError, match=">= 0"):
        normalized_weights({"a": -1, "b": 2})


def test_rank_fusion_gives_ties_their_average_rank() -> None:
    np.testing.assert_allclose(
        scaled_rank(np.array([5.0, 1.0, 5.0, 3.0])), [5 / 6, 0, 5 / 6, 1 / 3]
    )
    np.testing.assert_allclose(scaled_rank(np.array([2.0, 2.0, 2.0])), [0.5, 0.5, 0.5])
    # a huge outlier in "a" counts like any top rank
    columns = {"a": np.array([1e9, 1.0, 2.0, 2.0]), "b": np.array([0.0, 3.0, 1.0, 2.0])}
    np.testing.assert_allclose(
        fuse(columns, {"a": 1, "b": 1}, "rank_mean"),
        np.mean([[1, 0, 0.5, 0.5], [0, 1, 1 / 3, 2 / 3]], axis=0),
    )
    videos = np.array(["x", "x", "x", "y", "y"])
    np.testing.assert_allclose(
        per_video_rank(np.array([3, 1, 3, 7, 7.0]), videos), [0.75, 0, 0.75, 0.5, 0.5]
    )


def test_fused_scores_by_hand(make_cfg, tmp_path: Path) -> None:
    labels = {"01": [0, 1, 1], "02": [0, 0, 1]}
    a = write_member(
        tmp_path / "a" / "scores.csv", {"01": [1, 3, 5], "02": [2, 2, 6]}, "mse", labels
    )
    write_member(
        tmp_path / "b" / "scores.csv", {"01": [40, 30, 20], "02": [10, 30, 20]}, "psnr", labels
    )
    value, out = run(
        make_cfg,
        tmp_path,
        [
            f"+members.unet.scores={a}",
            "+members.unet.column=mse",
            f"+members.joint.scores={tmp_path / 'b'}",
            "+members.joint.column=psnr",
            "+weights.unet=3",
            "+weights.joint=1",
            "tune_videos=all",
        ],
    )
    fused = pd.read_csv(out / "fused_scores.csv", dtype={"video": str})
    # unet per-video min-max: [0, .5, 1], [0, 0, 1]; joint = -psnr min-max: [0, .5, 1], [1, 0, .5]
    np.testing.assert_allclose(fused["unet"], [0, 0.5, 1, 0, 0, 1])
    np.testing.assert_allclose(fused["joint"], [0, 0.5, 1, 1, 0, 0.5])
    np.testing.assert_allclose(fused["score"], 0.75 * fused["unet"] + 0.25 * fused["joint"])
    assert fused["frame"].tolist() == [100, 101, 102] * 2
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["members"]["unet"]["weight"] == 0.75
    assert "optimistic" in metrics["protocol"] and value == metrics["value"]


def test_members_must_score_the_same_frames(make_cfg, tmp_path: Path) -> None:
    a = write_member(tmp_path / "a.csv", {"01": [1, 2, 3, 4], "02": [1, 2, 3]})
    b = write_member(tmp_path / "b.csv", {"01": [1, 2, 3], "02": [1, 2, 3]})
    c = write_member(tmp_path / "c.csv", {"01": [1, 2, 3, 4], "02": [1, 2, 3], "05": [1]})
    base = [f"+members.unet.scores={a}", "+members.unet.column=mse", "+members.joint.column=mse"]
    with pytest.raises(
        ScoreFileError, match=r"'joint'.*lacks 1 frames, e.g. video '01' frames \[103\]"
    ):
        run(make_cfg, tmp_path, [*base, f"+members.joint.scores={b}"])
    with pytest.raises(
        ScoreFileError, match=r"'joint'.*has extra 1 frames, e.g. video '05' frames \[100\]"
    ):
        run(make_cfg, tmp_path, [*base, f"+members.joint.scores={c}"])
    with pytest.raises(ScoreFileError, match=r"member 'joint'.*missing column\(s\) \['psnr'\]"):
        run(
            make_cfg,
            tmp_path,
            [*base[:2], f"+members.joint.scores={a}", "+members.joint.column=psnr"],
        )


def test_members_must_agree_on_labels(make_cfg, tmp_path: Path) -> None:
    a = write_member(tmp_path / "a.csv", {"01": [1, 2, 3]})
    b = pd.read_csv(a, dtype={"video": str})
    b.loc[b["frame"] == 101, "label"] = 1 - b.loc[b["frame"] == 101, "label"]
    b.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(
        ScoreFileError, match=r"disagree on the labels of 1 frames, e.g. video '01' frame 101"
    ):
        run(
            make_cfg,
            tmp_path,
            [
                f"+members.unet.scores={a}",
                f"+members.joint.scores={tmp_path / 'b.csv'}",
                "+members.unet.column=mse",
                "+members.joint.column=mse",
                "tune_videos=all",
            ],
        )


def test_smoothing_stays_inside_each_video(make_cfg, tmp_path: Path) -> None:
    first, second = [0.0] * 12, [100.0] + [0.0] * 11
    path = write_member(tmp_path / "a.csv", {"01": first, "02": second}, labels=None)
    _, out = run(
        make_cfg,
        tmp_path,
        [
            f"+members.unet.scores={path}",
            "+members.unet.column=mse",
            "normalization=none",
            "smoothing.sigma=3",
        ],
    )
    fused = pd.read_csv(out / "fused_scores.csv", dtype={"video": str})
    assert (fused.loc[fused["video"] == "01", "score"] == 0).all()  # the spike of 02 stays in 02
    expected = gaussian_smooth(np.array(second), np.arange(100, 112), 3.0)
    np.testing.assert_allclose(fused.loc[fused["video"] == "02", "score"], expected)


def test_submission_ids_and_order(make_cfg, tmp_path: Path) -> None:
    values = {"10": [3.0, 1.0], "2": [5.0, 4.0], "cam_b": [1.0, 2.0]}
    path = write_member(tmp_path / "a.csv", values, labels=None)
    value, out = run(
        make_cfg, tmp_path, [f"+members.unet.scores={path}", "+members.unet.column=mse"]
    )
    assert value is None  # no labels: nothing to evaluate
    lines = (out / "submission.csv").read_text().splitlines()
    assert lines[0] == "Id,Predicted"
    assert [line.split(",")[0] for line in lines[1:]] == [
        "2_100",
        "2_101",
        "10_100",
        "10_101",
        "cam_b_100",
        "cam_b_101",
    ]
    assert [float(line.split(",")[1]) for line in lines[1:]] == [1, 0, 1, 0, 0, 1]
    assert not (out / "metrics.json").exists()


def test_train_statistics_are_found_or_named(make_cfg, tmp_path: Path) -> None:
    run_dir = tmp_path / "predict_run"
    labels = {"01": [0, 0, 1], "02": [0, 1, 1]}
    write_member(
        run_dir / "scores.csv", {"01": [1.0, 2.0, 5.0], "02": [3.0, 3.0, 3.0]}, "mse", labels
    )
    overrides = [f"+members.unet.scores={run_dir}", "+members.unet.column=mse"]
    overrides += ["normalization=train_zscore", "tune_videos=all"]
    with pytest.raises(
        ScoreFileError, match=r"member 'unet'.*training statistics.*members.unet.stats="
    ):
        run(make_cfg, tmp_path, overrides)
    stats = {"aggregate": "mean", "columns": {"mse": column_statistics(np.array([1.0, 3.0]))}}
    (run_dir / "score_stats.json").write_text(json.dumps(stats))
    _, out = run(make_cfg, tmp_path, overrides)
    fused = pd.read_csv(out / "fused_scores.csv", dtype={"video": str})
    np.testing.assert_allclose(fused["unet"], [-1, 0, 3, 1, 1, 1])  # (s - 2) / 1
    wrong = {"columns": {"psnr": stats["columns"]["mse"]}}
    (tmp_path / "other.json").write_text(json.dumps(wrong))
    with pytest.raises(
        VADError, match=r"member 'unet'.*no training statistics for score column 'mse'"
    ):
        run(make_cfg, tmp_path, [*overrides, f"+members.unet.stats={tmp_path / 'other.json'}"])


CLASSES = {"01": True, "02": True, "03": True, "04": False, "05": True, "06": False}


def test_tune_eval_split_is_stratified_and_disjoint() -> None:
    split = tune_eval_split(CLASSES, 0.5, seed=3)
    assert set(split.tune).isdisjoint(split.eval) and set(split.tune) | set(split.eval) == set(
        CLASSES
    )
    for videos in (split.tune, split.eval):
        assert sum(CLASSES[v] for v in videos) == 2 and sum(not CLASSES[v] for v in videos) == 1
    assert split == tune_eval_split(CLASSES, 0.5, seed=3)  # deterministic
    assert tune_eval_split(CLASSES, ("1", "04"), 0).tune == ("01", "04")
    assert tune_eval_split(CLASSES, "all", 0).leaky
    with pytest.raises(EnsembleConfigError, match="'09' is not scored"):
        tune_eval_split(CLASSES, ("09",), 0)
    with pytest.raises(EnsembleConfigError, match="no video with both"):
        tune_eval_split(CLASSES, ("04", "06"), 0)


def test_kfold_covers_every_video_once() -> None:
    folds = kfold_splits(CLASSES, 3, seed=0)
    held_out = [v for split in folds for v in split.eval]
    assert sorted(held_out) == sorted(CLASSES)
    for split in folds:
        assert any(CLASSES[v] for v in split.eval) and set(split.tune).isdisjoint(split.eval)
    with pytest.raises(EnsembleConfigError, match="at least 5 videos with both"):
        kfold_splits(CLASSES, 5, seed=0)


def test_options_are_validated() -> None:
    with pytest.raises(EnsembleConfigError, match="set direction=minimize"):
        EnsembleOptions(objective="eer")
    with pytest.raises(EnsembleConfigError, match="fusion='median' is unknown"):
        EnsembleOptions(fusion="median")
    with pytest.raises(EnsembleConfigError, match="cv_folds"):
        EnsembleOptions(cv_folds=1)


def test_leakage_free_metrics_and_cv(make_cfg, tmp_path: Path) -> None:
    a, b = noisy_member(tmp_path / "a.csv", 1), noisy_member(tmp_path / "b.csv", 2)
    base = [f"+members.unet.scores={a}", f"+members.joint.scores={b}"]
    base += ["+members.unet.column=mse", "+members.joint.column=mse"]
    value, out = run(make_cfg, tmp_path, [*base, "report=true"])
    metrics = json.loads((out / "metrics.json").read_text())
    tune, held_out = metrics["tune"]["videos"], metrics["eval"]["videos"]
    assert set(tune).isdisjoint(held_out) and value == metrics["tune"]["micro_auc"]
    assert set(metrics["members_alone"]) == {"unet", "joint"}
    assert (out / "report.md").is_file() and (out / "figures" / "member_curves.png").is_file()
    per_video = pd.read_csv(out / "per_video.csv", dtype={"video": str})
    assert set(per_video["set"]) == {"tune", "eval"}
    _, out = run(make_cfg, tmp_path, [*base, "cv_folds=3"])
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["folds"]) == 3
    assert sorted(v for f in metrics["folds"] for v in f["eval"]["videos"]) == sorted(LABELS)
    aucs = [f["eval"]["micro_auc"] for f in metrics["folds"]]
    assert metrics["cv"]["micro_auc"]["mean"] == pytest.approx(np.mean(aucs))
    assert metrics["cv"]["micro_auc"]["std"] == pytest.approx(np.std(aucs, ddof=1))


def test_train_statistics_from_the_member_run(make_cfg, tmp_path: Path) -> None:
    """A training run: the statistics in its checkpoint; the run's scoring settings must match."""
    stats = {"aggregate": "mean", "columns": {"mse": column_statistics(np.array([0.0, 4.0]))}}
    train_run = tmp_path / "train_run"
    ckpt = train_run / "checkpoints" / "best.ckpt"
    ckpt.parent.mkdir(parents=True)
    state = {STATS_STATE_KEY: {"score_stats": stats}}
    torch.save({"vad": {"model": {}, "data": {}}, "state_dict": state}, ckpt)
    labels = {"01": [0, 0, 1], "02": [0, 1, 1]}
    write_member(train_run / "scores.csv", {"01": [2.0, 4.0, 6.0], "02": [0, 2, 2]}, "mse", labels)
    (train_run / SCORING_FILE).write_text(json.dumps({"aggregate": "mean", "patch_size": 16}))
    overrides = [f"+members.unet.scores={train_run}", "+members.unet.column=mse"]
    _, out = run(make_cfg, tmp_path, [*overrides, "normalization=train_minmax", "tune_videos=all"])
    fused = pd.read_csv(out / "fused_scores.csv", dtype={"video": str})
    q999 = stats["columns"]["mse"]["quantiles"]["0.999"]  # train_minmax: (s - min) / (q999 - min)
    np.testing.assert_allclose(fused["unet"], np.array([2, 4, 6, 0, 2, 2]) / q999)
    (train_run / SCORING_FILE).write_text(json.dumps({"aggregate": "max", "patch_size": 16}))
    clear_stats_cache()
    clear_normalized_cache()
    with pytest.raises(VADError, match=r"member 'unet'.*aggregate=mean.*aggregate=max"):
        run(make_cfg, tmp_path, [*overrides, "normalization=train_minmax", "tune_videos=all"])


def test_score_files_are_read_once_per_process(make_cfg, tmp_path: Path, monkeypatch) -> None:
    reads = []
    real = member_files.read_scores
    monkeypatch.setattr(member_files, "read_scores", lambda path: reads.append(path) or real(path))
    a, b = noisy_member(tmp_path / "a.csv", 1), noisy_member(tmp_path / "b.csv", 2)
    base = [f"+members.unet.scores={a}", f"+members.joint.scores={b}"]
    base += ["+members.unet.column=mse", "+members.joint.column=mse"]
    first, _ = run(make_cfg, tmp_path, [*base, "+weights.unet=1"])
    second, _ = run(make_cfg, tmp_path, [*base, "+weights.unet=2"])
    assert len(reads) == 2 and first != second
    noisy_member(tmp_path / "b.csv", 3)
    run(make_cfg, tmp_path, [*base, "+weights.unet=2"])
    assert len(reads) == 3  # a changed file is read again


def _scored_run(folder: Path, model: str, column: str, seed: int) -> Path:
    """A predict run folder: scores.csv and the scoring.json its model's contract wrote."""
    noisy_member(folder / "scores.csv", seed, column)
    settings = {"aggregate": "mean", "patch_size": 16, "column": column, "model": model}
    (folder / "scoring.json").write_text(json.dumps(settings))
    return folder


def test_members_are_runs_named_by_their_model(make_cfg, tmp_path: Path) -> None:
    a = _scored_run(tmp_path / "r1", "density", "density", 1)
    b = _scored_run(tmp_path / "r2", "unet", "psnr", 2)
    c = _scored_run(tmp_path / "r3", "unet", "psnr", 3)
    _, out = run(make_cfg, tmp_path, [f"members=[{a},{b},{c}]", "tune_videos=all"])
    metrics = json.loads((out / "metrics.json").read_text())
    assert sorted(metrics["members"]) == ["density", "unet", "unet_2"]
    assert metrics["members"]["density"]["column"] == "density"  # read from the run
    assert metrics["members"]["unet_2"]["column"] == "psnr"
    # any name, a path alone; the column still comes from the run
    _, out = run(make_cfg, tmp_path, [f"+members.cam={a}", "tune_videos=all"])
    assert json.loads((out / "metrics.json").read_text())["members"]["cam"]["column"] == "density"
    bare = noisy_member(tmp_path / "bare" / "scores.csv", 4)
    with pytest.raises(EnsembleConfigError, match=r"members.bare: .* set members.bare.column="):
        run(make_cfg, tmp_path, [f"+members.bare={bare}", "tune_videos=all"])


def test_ensemble_config_names_no_model() -> None:
    cfg = OmegaConf.load(Path(__file__).resolve().parents[1] / "conf" / "ensemble.yaml")
    assert cfg.members is None and cfg.weights == {}
