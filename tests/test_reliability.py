"""Bad input gets a clear error naming the file (or entry) and the problem; outputs are atomic.

The issue's list of bad inputs and where each is tested:

    corrupt frame                      test_sources.py::test_corrupt_jpg, here through predict
    zero-byte frame                    test_sources.py::test_zero_byte_frame
    non-image frame                    test_sources.py::test_text_file_renamed_png
    unopenable video                   test_sources.py::test_unopenable_video, here in a folder
    empty folder                       test_sources.py::test_empty_folder, here as a source
    mixed frame sizes in a video       test_sources.py::test_mixed_frame_sizes
    duplicate frame ids                test_sources.py::test_duplicate_frame_ids
    non-numeric frame names            test_sources.py::test_non_numeric_frame_name
    label length mismatch              test_layouts.py::test_npy_label_count_mismatch (+ avenue)
    GT file without its key            test_layouts.py::test_mat_without_gt_key
    checkpoint of another model        here (no model config; weights of another model)
    other input size / channels        test_pipeline.py::...other_input_size, here channels
    score file missing columns         here
    NaN in scores                      here
    duplicate ids in a score file      here
    unknown config key                 here (Hydra's error)
    output dir not writable            here
    disk-cache corruption              test_cache.py::test_truncated_frames_rebuilt, here end to end
    NaN loss                           here
and more below (missing or truncated checkpoint, sources that are no video, short videos, ...).
"""

from __future__ import annotations

import os
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
import pytest
import torch
from hydra.errors import ConfigCompositionException
from omegaconf import open_dict

from tests.conftest import compose_config
from tests.helpers import write_frames, write_video
from tests.trained_runs import unet_run_fixture  # noqa: F401
from vad.errors import CheckpointError, DataError, ScoreFileError, TrainingError, VADError
from vad.io.atomic import atomic_open, write_csv
from vad.io.scores import read_scores
from vad.models.base import VADModule
from vad.models.checkpoint import load_model, resolve_checkpoint
from vad.tasks.predict import predict
from vad.tasks.train import train

SCORES = "video,frame,mse,psnr\n01,0,0.1,10\n01,1,0.2,7\n02,0,0.3,5\n"


def _predict(tmp: Path, shared: Path, overrides: list[str]) -> Path:
    cfg = compose_config("predict", overrides, tmp, shared)
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp / "out")
    predict(cfg)
    return tmp / "out"


def _message(info: pytest.ExceptionInfo) -> str:
    return str(info.value)


# --- footage given to predict.py source=... ----------------------------------------------------


@pytest.mark.slow
def test_corrupt_frame_in_streamed_footage(unet_run: Path, tmp_path: Path, shared_dir) -> None:
    folder = tmp_path / "cam"
    write_frames(folder, range(8))
    (folder / "005.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(DataError, match=r"truncated JPEG|cannot decode frame image") as info:
        _predict(tmp_path, shared_dir, [f"ckpt_path={unet_run}", f"source={folder}"])
    assert str(folder / "005.jpg") in _message(info)
    assert not (tmp_path / "out" / "scores.csv").exists()
    assert not list((tmp_path / "out").glob("annotated/*"))  # no half-written video


def test_unopenable_video_in_a_folder_fails_before_scoring(
    unet_run: Path, tmp_path: Path, shared_dir
) -> None:
    footage = tmp_path / "footage"
    write_video(footage / "a.avi", 8)
    bad = footage / "b.mp4"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(DataError, match="cannot open video file") as info:
        _predict(tmp_path, shared_dir, [f"ckpt_path={unet_run}", f"source={footage}"])
    assert str(bad) in _message(info)
    assert not (tmp_path / "out" / "annotated").exists()


def test_empty_source_folder(unet_run: Path, tmp_path: Path, shared_dir) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no videos") as info:
        _predict(tmp_path, shared_dir, [f"ckpt_path={unet_run}", f"source={empty}"])
    assert str(empty) in _message(info)


def test_source_that_is_not_a_video(unet_run: Path, tmp_path: Path, shared_dir) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    with pytest.raises(DataError, match="not a video file") as info:
        _predict(tmp_path, shared_dir, [f"ckpt_path={unet_run}", f"source={notes}"])
    assert str(notes) in _message(info)


def test_missing_source(unet_run: Path, tmp_path: Path, shared_dir) -> None:
    with pytest.raises(DataError, match="source not found") as info:
        _predict(tmp_path, shared_dir, [f"ckpt_path={unet_run}", f"source={tmp_path / 'nope'}"])
    assert str(tmp_path / "nope") in _message(info)


def test_zero_byte_video_source(unet_run: Path, tmp_path: Path, shared_dir) -> None:
    empty = tmp_path / "cam.mp4"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty \(0 bytes\)") as info:
        _predict(tmp_path, shared_dir, [f"ckpt_path={unet_run}", f"source={empty}"])
    assert str(empty) in _message(info)


def test_video_shorter_than_a_clip(unet_run: Path, tmp_path: Path, shared_dir) -> None:
    short = write_video(tmp_path / "short.avi", 3)  # the model needs 5 consecutive frames
    with pytest.raises(ScoreFileError, match="no frame was scored") as info:
        _predict(tmp_path, shared_dir, [f"ckpt_path={unet_run}", f"source={short}"])
    assert "'short'" in _message(info) and str(short) in _message(info)


def test_two_videos_with_one_id(unet_run: Path, tmp_path: Path, shared_dir) -> None:
    footage = tmp_path / "footage"
    write_video(footage / "cam.avi", 6)
    write_frames(footage / "cam", range(6))
    with pytest.raises(DataError, match="share the id 'cam'") as info:
        _predict(tmp_path, shared_dir, [f"ckpt_path={unet_run}", f"source={footage}"])
    assert str(footage) in _message(info)


# --- checkpoints -------------------------------------------------------------------------------


def test_checkpoint_without_a_model_config(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {"weight": torch.zeros(2)}, "epoch": 3}, foreign)
    with pytest.raises(CheckpointError, match="not a vad training checkpoint") as info:
        load_model(foreign)
    assert str(foreign) in _message(info)


def test_checkpoint_with_weights_of_another_model(unet_run: Path, tmp_path: Path) -> None:
    checkpoint = torch.load(resolve_checkpoint(unet_run), weights_only=False)
    checkpoint["vad"]["model"]["base_width"] = 8  # the config of a wider U-Net
    other = tmp_path / "other.ckpt"
    torch.save(checkpoint, other)
    with pytest.raises(CheckpointError, match=r"weights do not fit .*UNetModule") as info:
        load_model(other)
    assert str(other) in _message(info)


def test_checkpoint_from_other_channels(unet_run: Path, tmp_path: Path, shared_dir) -> None:
    overrides = [f"ckpt_path={unet_run}", "data=synthetic", "data.channels=3"]
    overrides += ["data.image_size=[32,32]"]
    with pytest.raises(CheckpointError, match=r"channels=1, but the data config has") as info:
        _predict(tmp_path, shared_dir, overrides)
    assert str(unet_run) in _message(info)


def test_truncated_checkpoint(unet_run: Path, tmp_path: Path, shared_dir) -> None:
    data = resolve_checkpoint(unet_run).read_bytes()
    broken = tmp_path / "broken.ckpt"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cannot read checkpoint") as info:
        _predict(tmp_path, shared_dir, [f"ckpt_path={broken}"])
    assert str(broken) in _message(info)


def test_missing_checkpoint(tmp_path: Path, shared_dir) -> None:
    with pytest.raises(CheckpointError, match="checkpoint not found") as info:
        _predict(tmp_path, shared_dir, [f"ckpt_path={tmp_path / 'gone.ckpt'}"])
    assert "gone.ckpt" in _message(info)


# --- score files -------------------------------------------------------------------------------


def test_score_file_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_text("video,mse\n01,0.1\n")
    with pytest.raises(ScoreFileError, match=r"missing column\(s\) \['frame', 'psnr'\]") as info:
        read_scores(path, ["psnr"])
    assert str(path) in _message(info)


def test_nan_in_scores(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_text(SCORES.replace("0.2,7", "0.2,nan"))
    with pytest.raises(ScoreFileError, match="'psnr' has 1 missing, NaN") as info:
        read_scores(path, ["psnr"])
    assert str(path) in _message(info) and "frame 1" in _message(info)


def test_duplicate_ids_in_a_score_file(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_text(SCORES + "01,1,0.2,7\n")
    with pytest.raises(ScoreFileError, match=r"share a \(video, frame\) id") as info:
        read_scores(path, ["psnr"])
    assert str(path) in _message(info) and "frame 1" in _message(info)


# --- configuration and outputs -----------------------------------------------------------------


def test_unknown_config_key(tmp_path: Path, shared_dir) -> None:
    with pytest.raises(ConfigCompositionException, match=r"trainer\.max_epoch") as info:
        compose_config("train", ["trainer.max_epoch=3"], tmp_path, shared_dir)
    assert "max_epoch" in str(info.value.__cause__)


def test_output_folder_under_a_file(unet_run: Path, tmp_path: Path, shared_dir) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("a file where the output folder should go\n")
    cfg = compose_config("predict", [f"ckpt_path={unet_run}"], tmp_path, shared_dir)
    with open_dict(cfg):
        cfg.paths.output_dir = str(blocker / "run")
    with pytest.raises(VADError, match="output folder is not writable") as info:
        predict(cfg)
    assert str(blocker / "run") in _message(info)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_folder(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(VADError, match="not writable") as info:
            write_csv(pd.DataFrame({"a": [1]}), folder / "scores.csv")
        assert str(folder) in _message(info)
    finally:
        folder.chmod(0o700)


def test_interrupted_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_text(SCORES)
    with pytest.raises(KeyboardInterrupt), atomic_open(path) as handle:
        handle.write("video,frame\n01,")
        raise KeyboardInterrupt
    assert path.read_text() == SCORES
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


def test_predict_failing_midway_leaves_no_score_file(
    unet_run: Path, tmp_path: Path, shared_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = []

    def failing_step(self, batch, batch_idx, dataloader_idx=0):
        steps.append(batch_idx)
        if batch_idx == 1:
            raise RuntimeError("device lost")
        return self.predict_clips(batch)

    monkeypatch.setattr(VADModule, "predict_step", failing_step)
    with pytest.raises(RuntimeError, match="device lost"):
        _predict(tmp_path, shared_dir, [f"ckpt_path={unet_run}", "batch_size=8"])
    assert steps == [0, 1]
    assert not (tmp_path / "out" / "scores.csv").exists()
    assert not list((tmp_path / "out").glob(".scores.csv.*"))


def test_atomic_outputs_respect_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        write_csv(pd.DataFrame({"a": [1]}), tmp_path / "new.csv")
    finally:
        os.umask(previous)
    assert (tmp_path / "new.csv").stat().st_mode & 0o777 == 0o640
    existing = tmp_path / "kept.csv"
    existing.write_text("a\n")
    existing.chmod(0o604)
    write_csv(pd.DataFrame({"a": [2]}), existing)
    assert existing.stat().st_mode & 0o777 == 0o604


# --- training and the frame cache --------------------------------------------------------------


@pytest.mark.slow
def test_nan_loss_stops_training_with_a_message(make_cfg) -> None:
    cfg = make_cfg("train", ["model.optimizer.lr=1e30", "model.scheduler=null", "test=false"])
    with pytest.raises(
        TrainingError, match=r"loss became (nan|inf) at step \d+ \(epoch 0\)"
    ) as info:
        train(cfg)
    assert "lower the learning rate" in _message(info)
    assert not (Path(cfg.paths.output_dir) / "train_metrics.json").exists()


def test_truncated_frame_cache_is_rebuilt_end_to_end(
    unet_run: Path, tmp_path: Path, shared_dir
) -> None:
    _, meta = load_model(unet_run)
    datamodule = hydra.utils.instantiate(meta["data"])
    test = datamodule.split_table("test")
    damaged = [
        datamodule.cache.cache_dir / datamodule.cache.key(row) / "frames.npy"
        for _, row in test.iterrows()
    ]
    sizes = [npy.stat().st_size for npy in damaged]
    for npy, size in zip(damaged, sizes, strict=True):
        with open(npy, "r+b") as handle:
            handle.truncate(size // 2)
    out = _predict(tmp_path, shared_dir, [f"ckpt_path={unet_run}", "scoring.report.enabled=false"])
    scores = pd.read_csv(out / "scores.csv", dtype={"video": str})
    expected = pd.read_csv(unet_run / "scores.csv", dtype={"video": str})
    pd.testing.assert_frame_equal(scores, expected, rtol=1e-5)
    assert [npy.stat().st_size for npy in damaged] == sizes  # rebuilt in place
