"""Bad input stopped where it is read: labels files, layout settings, run settings.

Each test asserts the error type, that the message names the file or key and the value, and
that nothing was written where the input was bad.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from omegaconf import open_dict

from tests.helpers import ROOT, write_frames
from tests.test_layouts_folder import folder_labels, make_folder_dataset
from tests.trained_runs import unet_run_fixture  # noqa: F401
from vad.cli import extras
from vad.data.clips import memory_video
from vad.data.datamodule import VideoDataModule
from vad.data.layouts import FolderLayout
from vad.data.sources import open_source
from vad.errors import DataError, TrainingError, VADError
from vad.inference.stream_sources import list_sources
from vad.tasks.checks import check_clips
from vad.tasks.predict import predict
from vad.tasks.train import train
from vad.utils.signals import terminate_like_interrupt
from vad.visualization.overlay import AnnotatedVideoWriter


def _labels_with(root: Path, video: str, frame: str, label: str) -> Path:
    """A valid labels.csv of ``make_folder_dataset`` with one row replaced."""
    path = folder_labels(root)
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{video},"))
    lines[index] = f"{video},{frame},{label}"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("frame", "label", "message"),
    [
        ("0", "0.7", r"line 2: label '0\.7' is not 0 or 1"),
        ("0", "2", r"line 2: label '2' is not 0 or 1"),
        ("0", "-1", r"line 2: label '-1' is not 0 or 1"),
        ("0", "yes", r"line 2: label 'yes' is not 0 or 1"),
        ("0.5", "0", r"line 2: frame '0\.5' is not a frame id"),
        ("-3", "0", r"line 2: frame '-3' is not a frame id"),
        ("first", "0", r"line 2: frame 'first' is not a frame id"),
    ],
)
def test_labels_that_are_not_integers_0_or_1_fail_at_read_time(
    tmp_path: Path, frame: str, label: str, message: str
) -> None:
    root = make_folder_dataset(tmp_path / "footage")
    path = _labels_with(root, "cam2", frame, label)
    with pytest.raises(DataError, match=message) as info:
        FolderLayout(root).videos()
    assert str(path) in str(info.value)


def test_a_misspelt_labels_file_is_an_error_not_a_run_without_metrics(tmp_path: Path) -> None:
    root = make_folder_dataset(tmp_path / "footage")
    folder_labels(root)
    with pytest.raises(DataError, match="labels file not found") as info:
        FolderLayout(root, labels="lables.csv").videos()
    assert str(root / "lables.csv") in str(info.value)
    assert "data.layout.labels" in str(info.value)
    assert FolderLayout(root).videos()["labels"].notna().sum() == 2  # the default is optional


def test_training_without_a_logger_runs(make_cfg) -> None:
    cfg = make_cfg("train", ["logger=none", "test=false", "callbacks=default"])
    train(cfg)
    assert (Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.image_size=[0,64]", r"data\.image_size=\[0, 64\] is invalid"),
        ("data.image_size=[64]", r"data\.image_size=\[64\] is invalid"),
        ("data.image_size=[16,16,16]", r"data\.image_size=\[16, 16, 16\] is invalid"),
        ("data.image_size=[16.5,16]", r"data\.image_size=\[16\.5, 16\] is invalid"),
        ("data.image_size=-8", r"data\.image_size=-8 is invalid"),
        ("data.channels=2", r"channels must be 1 \(grey\) or 3 \(RGB\), got 2"),
        ("model.history=0", r"model\.history=0 is invalid"),
        ("model.history=-1", r"model\.history=-1 is invalid"),
        ("scoring.normalization=bogus", r"normalization"),
        ("scoring.aggregate=median", r"aggregate"),
        ("scoring.smoothing.sigma=-1", r"sigma"),
        ("data.sampling=bogus", r"data\.sampling='bogus' is unknown"),
        ("data.resize=bogus", r"resize"),
        ("data.regions.threshold=300", r"data\.regions=.* is invalid"),
        ("data.flow.method=bogus", r"flow"),
        # a valid setting of a modality the model does not read would do nothing
        ("data.flow.method=dis", r"data\.flow\.method is set, but UNetModule reads no flow"),
        (
            "data.regions.min_area=4",
            r"data\.regions\.min_area is set, but UNetModule reads no boxes",
        ),
        ("data.val_videos=[nope]", r"val_videos \['nope'\] are not training videos"),
        ("model.pseudo_anomaly.skips=[1]", r"skips"),
        ("model.pseudo_anomaly.probability=2", r"probability"),
    ],
)
def test_bad_settings_fail_before_any_work_naming_the_key(
    make_cfg, override: str, message: str
) -> None:
    cfg = make_cfg("train", [override, "test=false"])
    with pytest.raises(VADError, match=message):
        train(cfg)
    assert not (Path(cfg.paths.output_dir) / "checkpoints").exists()


def test_sigterm_unwinds_like_ctrl_c_and_leaves_no_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "annotated" / "cam.mp4"
    previous = signal.getsignal(signal.SIGTERM)
    try:
        terminate_like_interrupt()
        with (
            pytest.raises(KeyboardInterrupt, match="SIGTERM"),
            AnnotatedVideoWriter(path, 10) as writer,
        ):
            writer.write(np.zeros((16, 16, 3), np.uint8))
            assert len(list(path.parent.iterdir())) == 1  # the temporary file
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the signal arrives before this ends
        assert list(path.parent.iterdir()) == []
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_truncated_jpeg_frame_is_an_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    write_frames(folder, range(3))
    bad = folder / "001.jpg"
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size * 2 // 3])
    with pytest.raises(DataError, match="truncated JPEG") as info:
        list(open_source(folder).iter_frames(1))
    assert str(bad) in str(info.value)


@pytest.mark.parametrize("name", ["cam9.webm", "cam9.mpg", "frames_webp"])
def test_footage_in_an_unread_format_is_an_error_in_layouts_and_streams(
    tmp_path: Path, name: str
) -> None:
    root = make_folder_dataset(tmp_path / "footage")
    bad = root / "test" / name
    if name.endswith("webp"):
        bad.mkdir()
        (bad / "000.webp").write_bytes(b"RIFF0000WEBP")
    else:
        bad.write_bytes(b"\x00" * 64)
    with pytest.raises(DataError, match="are not read") as info:
        FolderLayout(root).videos()
    assert str(bad) in str(info.value)
    with pytest.raises(DataError, match="are not read"):
        list_sources(root / "test")


def test_other_files_beside_the_videos_are_named_in_a_warning(tmp_path: Path, caplog) -> None:
    root = make_folder_dataset(tmp_path / "footage")  # test/README.txt
    with caplog.at_level("WARNING"):
        FolderLayout(root).videos()
    assert "README.txt" in caplog.text and "not a video file" in caplog.text


def test_test_videos_without_a_full_clip_are_named_before_any_scoring() -> None:
    frames = np.zeros((8, 4, 4, 1), np.uint8)
    fine = memory_video("fine", {"frames": frames})
    gappy = memory_video("gappy", {"frames": frames}, frame_ids=np.array([0, 1, 2, 4, 5, 6, 8, 9]))
    short = memory_video("short", {"frames": frames[:3]})
    check_clips([fine], 5)
    with pytest.raises(DataError, match=r"2 test video\(s\) have no 5 consecutive") as info:
        check_clips([fine, gappy, short], 5)
    assert "'gappy'" in str(info.value) and "'short'" in str(info.value)
    assert "'fine'" not in str(info.value)


@pytest.mark.parametrize("val_videos", [0, 1, 2])
def test_a_test_only_dataset_can_be_scored_and_refuses_training(
    tmp_path: Path, val_videos: int
) -> None:
    root = make_folder_dataset(tmp_path / "footage", train=False)
    layout = FolderLayout(root, train_dir=None)
    datamodule = VideoDataModule(layout, 16, 1, tmp_path / "cache", val_videos=val_videos)
    datamodule.configure_clips(2)
    assert len(datamodule.split_table("val")) == 0
    assert len(datamodule.dataset("test")) > 0
    with pytest.raises(DataError, match="no training videos to train on") as info:
        datamodule.dataset("train")
    assert "predict.py" in str(info.value)


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, *args, f"hydra.run.dir={tmp_path / 'run'}"]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env}, timeout=300
    )


@pytest.mark.slow
def test_a_user_error_is_one_short_message_without_a_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_run"
    done = _run(["predict.py", f"ckpt_path={missing}"], tmp_path, HYDRA_FULL_ERROR="0")
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert f"error: {missing}: checkpoint not found" in done.stderr
    assert "hint: ckpt_path takes" in done.stderr
    assert "Traceback" not in output and len(output.splitlines()) <= 25
    full = _run(["predict.py", f"ckpt_path={missing}"], tmp_path, HYDRA_FULL_ERROR="1")
    assert full.returncode == 1 and "Traceback" in full.stderr


def test_a_run_that_trained_no_epoch_says_so_and_scores_nothing(make_cfg) -> None:
    cfg = make_cfg("train", ["trainer.max_epochs=0", "test=true"])
    with pytest.raises(TrainingError, match=r"saved no checkpoint in .*\(trained 0 epochs"):
        train(cfg)
    output = Path(cfg.paths.output_dir)
    assert not (output / "scores.csv").exists() and not (output / "train_metrics.json").exists()


@pytest.mark.slow
def test_a_misspelt_score_column_stops_training_after_its_first_epoch(make_cfg) -> None:
    cfg = make_cfg("train", ["scoring.column=psnrr", "trainer.max_epochs=3"])
    with pytest.raises(DataError, match=r"scoring\.column='psnrr' is not a score column") as info:
        train(cfg)
    assert "'psnr'" in str(info.value)
    assert not (Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt").exists()


@pytest.mark.slow
def test_a_misspelt_score_column_stops_predict_before_any_video_is_scored(
    unet_run: Path, make_cfg, tmp_path: Path
) -> None:
    cfg = make_cfg("predict", [f"ckpt_path={unet_run}", "scoring.column=pnsr"])
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp_path / "predict")
    with pytest.raises(DataError, match=r"scoring\.column='pnsr' is not a score column") as info:
        predict(cfg)
    assert "'psnr'" in str(info.value)
    assert not list((tmp_path / "predict").glob("*scores*"))


def test_a_choice_whose_extra_is_missing_is_one_line_naming_the_install(monkeypatch) -> None:
    real = extras._installed
    monkeypatch.setattr(
        extras, "_installed", lambda module: module != "tensorboard" and real(module)
    )
    assert extras.missing_extra(["model=unet", "trainer=gpu"]) is None
    message = extras.missing_extra(["model=unet", "logger=tensorboard"])
    assert message == (
        "error: logger=tensorboard needs the 'tensorboard' extra: "
        "pip install 'vad[tensorboard]' (or 'vad[all]')"
    )
    with pytest.raises(SystemExit) as info:
        extras.exit_if_an_extra_is_missing(["logger=tensorboard"])
    assert info.value.code == 1
    for module, _ in extras.NEEDS.values():  # make test installs every extra
        assert real(module), module
