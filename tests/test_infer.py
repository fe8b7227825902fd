"""Streaming inference on any footage: clips cut as the batch path cuts them, scores equal to the
batch path (one- and multi-frame models), bounded memory, outputs, thresholds, the overlay."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import hydra
import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import open_dict

from tests.conftest import compose_config
from tests.helpers import write_frames, write_video
from tests.trained_runs import train_tiny, unet_run_fixture  # noqa: F401
from vad.data.clips import clip_starts
from vad.errors import CheckpointError, VADError
from vad.inference.alarm import AlarmScore
from vad.inference.annotate import heat_reference
from vad.inference.engine import ClipCutter, StreamScorer
from vad.models.checkpoint import (
    STATS_STATE_KEY,
    load_model,
    read_score_stats,
    resolve_checkpoint,
)
from vad.scoring.options import ScoringOptions
from vad.tasks.predict import predict
from vad.visualization.overlay import AnnotatedVideoWriter, ScoreRange, annotate_frame

TINY_STAE = ["model=stae", "model.input_frames=2", "model.widths=[4,4,4]"]


def _test_folder(run: Path) -> Path:
    """The folder holding the trained dataset's test videos (frame folders)."""
    _, meta = load_model(run)
    table = hydra.utils.instantiate(meta["data"]).split_table("test")
    return Path(table["source"].iloc[0]).parent


def _infer(tmp: Path, shared: Path, run: Path, source: Path, extra: list[str] = ()) -> Path:
    cfg = compose_config("predict", [f"ckpt_path={run}", f"source={source}", *extra], tmp, shared)
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp / "infer")
    predict(cfg)
    return tmp / "infer"


def _raw_columns(scores: pd.DataFrame) -> list[str]:
    return [c for c in scores.columns if c not in ("label", "score", "alarm")]


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("length", [1, 4, 5])
def test_clip_cutter_cuts_the_clips_of_clip_starts(length: int, stride: int) -> None:
    rng = np.random.default_rng(length * 10 + stride)
    ids = np.cumsum(rng.choice([1, 1, 1, 1, 2, 7], size=60)) + 3
    cutter = ClipCutter(length, stride)
    clips = [c for i in ids for c in cutter.push(int(i), {"frames": np.full((2, 2, 1), i)})]
    clips += cutter.end_run()
    assert [c.start for c in clips] == clip_starts(ids, length, stride).tolist()
    for clip in clips:
        assert clip.ids.tolist() == ids[clip.start : clip.start + length].tolist()
        assert clip.arrays["frames"][:, 0, 0, 0].tolist() == clip.ids.tolist()


@pytest.mark.slow
def test_stream_scores_equal_the_batch_path(unet_run: Path, tmp_path: Path, shared_dir) -> None:
    out = _infer(tmp_path, shared_dir, unet_run, _test_folder(unet_run))
    batch = pd.read_csv(unet_run / "scores.csv", dtype={"video": str})
    stream = pd.read_csv(out / "scores.csv", dtype={"video": str})
    columns = _raw_columns(batch)
    pd.testing.assert_frame_equal(stream[columns], batch[columns], rtol=1e-5, atol=1e-7)
    summary = json.loads((out / "infer.json").read_text())
    assert summary["frames"] == len(batch) and summary["frames_per_s"] > 0
    stages = summary["seconds_by_stage"]  # where the time went, each stage counted once
    assert {"decode", "resize", "network", "rows", "annotate"} <= set(stages)
    assert min(stages.values()) >= 0 and sum(stages.values()) <= summary["seconds"] * 1.01 + 0.01
    over = (stream["score"] > summary["threshold"]) & (stream["filled"] == 0)
    assert np.array_equal(stream["alarm"], over)  # warm-up (filled) frames never alarm
    assert np.allclose(stream["score"], -stream["psnr"])  # default scoring: raw, PSNR negated
    assert (out / "score_curve.png").stat().st_size > 0
    for video, rows in stream.groupby("video"):
        assert (out / "curves" / f"{video}.png").is_file()
        assert _frame_count(out / "annotated" / f"{video}.mp4") == len(rows)


@pytest.mark.slow
def test_multi_frame_model_aggregates_clips_like_the_batch_path(
    tmp_path: Path, shared_dir: Path
) -> None:
    run = train_tiny(tmp_path / "train", shared_dir, TINY_STAE)
    out = _infer(tmp_path, shared_dir, run, _test_folder(run), ["infer.annotate=false"])
    batch = pd.read_csv(run / "scores.csv", dtype={"video": str})
    stream = pd.read_csv(out / "scores.csv", dtype={"video": str})
    columns = _raw_columns(batch)
    assert {"recon_mse", "pred_mse", "psnr"} <= set(columns)
    pd.testing.assert_frame_equal(stream[columns], batch[columns], rtol=1e-5, atol=1e-7)
    assert not (out / "annotated").exists()


def test_video_files_and_a_mixed_folder(unet_run: Path, tmp_path: Path, shared_dir) -> None:
    footage = tmp_path / "footage"
    write_video(footage / "cam1.avi", 11)
    write_frames(footage / "cam2", range(5, 14))
    out = _infer(tmp_path, shared_dir, unet_run, footage, ["infer.fps=7"])
    scores = pd.read_csv(out / "scores.csv", dtype={"video": str})
    assert scores.groupby("video")["frame"].apply(list).to_dict() == {
        "cam1": list(range(11)),
        "cam2": list(range(5, 14)),
    }
    assert scores.groupby("video")["filled"].sum().to_dict() == {"cam1": 4, "cam2": 4}
    capture = cv2.VideoCapture(str(out / "annotated" / "cam1.mp4"))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(7)
    frame = capture.read()[1]
    assert frame.shape[1] == 64 and frame.shape[0] > 48  # the frame and the score bar below
    single = _infer(tmp_path / "one", shared_dir, unet_run, footage / "cam1.avi")
    one = pd.read_csv(single / "scores.csv", dtype={"video": str})
    pd.testing.assert_frame_equal(one, scores[scores["video"] == "cam1"].reset_index(drop=True))


@pytest.mark.slow
def test_the_window_stays_bounded_on_a_long_video(unet_run: Path) -> None:
    model, _ = load_model(unet_run)
    scorer = StreamScorer(model, "long", batch_size=4)
    frame = np.zeros((32, 32, 1), np.uint8)
    largest, released = 0, 0
    for i in range(300):
        released += len(scorer.push(i, frame, frame))
        largest = max(largest, len(scorer.window))
    released += len(scorer.finish())
    assert released == 300
    assert largest <= 4 + model.clip_length
    scored = scorer.rows.frame()["frame"].tolist()
    assert scored == list(range(model.clip_length - 1, 300))


def test_threshold_from_config_or_training_statistics() -> None:
    quantiles = {"0": -40.0, "0.5": -35.0, "0.999": -30.0, "1": -29.0}
    stats = {"columns": {"psnr": {"mean": -35.0, "std": 2.0, "quantiles": quantiles}}}
    raw = ScoringOptions(column="psnr", normalization="minmax")
    alarm = AlarmScore.build(raw, stats, None, 0.999, "model.ckpt")
    # exact: raw scores (per-video min-max is not used online): the stored quantiles and the
    # configured threshold are copied
    assert (alarm.threshold, alarm.low) == (-30.0, -40.0)
    assert AlarmScore.build(raw, stats, -33.0, 0.999, "model.ckpt").threshold == -33.0
    zscore = ScoringOptions(column="psnr", normalization="train_zscore")
    alarm = AlarmScore.build(zscore, stats, None, 0.999, "model.ckpt")
    assert alarm.threshold == pytest.approx(2.5)  # (-30 - -35) / 2
    table = pd.DataFrame({"video": ["a", "a"], "psnr": [35.0, 29.0]})
    assert alarm.scores(table).tolist() == pytest.approx([0.0, 3.0])
    with pytest.raises(CheckpointError, match=r"model\.ckpt.*infer\.threshold"):
        AlarmScore.build(raw, None, None, 0.999, "model.ckpt")


def test_overlay_marks_frames_over_the_threshold() -> None:
    image = np.full((40, 60), 100, np.uint8)
    error = np.zeros((10, 15), np.float32)
    error[2:5, 3:6] = 0.2
    scores = ScoreRange(threshold=1.0, low=0.0)
    calm = annotate_frame(image, error, 0.5, scores, heat_scale=0.2)
    alarm = annotate_frame(image, error, 2.0, scores, heat_scale=0.2)
    warmup = annotate_frame(image, None, None, scores, heat_scale=0.2)
    assert calm.shape == alarm.shape == warmup.shape and calm.shape[0] > 40
    red, green = np.array([40, 40, 230]), np.array([60, 180, 75])
    bar_pixel = (51, 1)  # the filled part of the score bar, below its text
    assert np.array_equal(calm[bar_pixel], green) and np.array_equal(alarm[bar_pixel], red)
    assert np.array_equal(alarm[0, 30], red) and not np.array_equal(calm[0, 30], red)
    hot, cold = calm[14, 16].astype(int), calm[35, 50].astype(int)
    assert np.abs(hot - 100).sum() > 60 and np.abs(cold - 100).sum() == 0  # heat only on errors
    assert np.array_equal(warmup[:40], np.stack([image] * 3, axis=-1))


def test_annotated_video_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "annotated" / "cam.mp4"
    with pytest.raises(RuntimeError), AnnotatedVideoWriter(path, 10) as writer:
        writer.write(np.zeros((16, 16, 3), np.uint8))
        raise RuntimeError("decoding failed")
    assert not path.exists() and list(path.parent.iterdir()) == []
    with pytest.raises(VADError, match=r"cam\.mkv"):
        AnnotatedVideoWriter(tmp_path / "cam.mkv", 10)


def _frame_count(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    return count


@pytest.mark.slow
def test_missing_statistics_are_fitted_for_the_threshold(
    unet_run: Path, tmp_path: Path, shared_dir
) -> None:
    checkpoint = torch.load(resolve_checkpoint(unet_run), weights_only=False)
    state = checkpoint["state_dict"][STATS_STATE_KEY]
    stored = state.pop("score_stats")["columns"]["psnr"]["quantiles"]["0.999"]
    bare = tmp_path / "bare.ckpt"
    torch.save(checkpoint, bare)
    with pytest.raises(CheckpointError, match=r"bare\.ckpt.*set infer\.threshold"):
        _infer(
            tmp_path / "never",
            shared_dir,
            bare,
            _test_folder(unet_run),
            ["scoring.train_stats=never"],
        )
    out = _infer(tmp_path, shared_dir, bare, _test_folder(unet_run), ["infer.annotate=false"])
    fitted = read_score_stats(bare)
    assert fitted["columns"]["psnr"]["quantiles"]["0.999"] == pytest.approx(stored, rel=1e-5)
    threshold = json.loads((out / "infer.json").read_text())["threshold"]
    assert threshold == pytest.approx(stored, rel=1e-5)


def test_statistics_of_another_aggregation_are_refused(
    unet_run: Path, tmp_path: Path, shared_dir
) -> None:
    with pytest.raises(CheckpointError, match="aggregate=mean"):
        _infer(tmp_path, shared_dir, unet_run, _test_folder(unet_run), ["scoring.aggregate=max"])


def test_heat_scale_ignores_a_single_extreme_pixel() -> None:
    error = np.full((100, 100), 1e-4, dtype=np.float32)
    error[40:50, 40:50] = 0.05  # an object: 1% of the pixels
    error[0, 0] = 4.0  # one saturated pixel
    assert heat_reference(error) == pytest.approx(0.05)
