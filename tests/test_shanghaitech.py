"""The ShanghaiTech Campus layout on a tiny generated tree, its scene filter and its errors."""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
import pytest

from tests.shanghaitech_tree import (
    ANOMALIES,
    SQUARE,
    TEST,
    TRAIN,
    anomaly_box,
    make_shanghaitech_tree,
)
from vad.data.datamodule import VideoDataModule
from vad.data.layouts import FramesLayout, ShanghaiTechLayout
from vad.data.masks import read_masks
from vad.data.table import COLUMNS
from vad.errors import DataError


@pytest.fixture(scope="module")
def videos_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Training footage as .avi files (read-only: tests that change it copy it first)."""
    return make_shanghaitech_tree(tmp_path_factory.mktemp("st") / "shanghaitech")


@pytest.fixture
def tree(tmp_path: Path, videos_tree: Path) -> Path:
    """A copy of the tree that a test may break."""
    return Path(shutil.copytree(videos_tree, tmp_path / "shanghaitech"))


def split(table: pd.DataFrame, name: str) -> pd.DataFrame:
    return table[table["split"] == name].set_index("video")


def at(path: Path) -> str:
    """``path`` as a regular expression."""
    return re.escape(str(path))


def datamodule(root: Path, tmp_path: Path, **kwargs) -> VideoDataModule:
    layout = functools.partial(ShanghaiTechLayout)
    return VideoDataModule(layout, 16, 1, tmp_path / "cache", root=root, **kwargs)


def test_table_from_videos(videos_tree: Path) -> None:
    table = ShanghaiTechLayout(videos_tree).videos()
    assert list(table.columns) == COLUMNS
    train, test = split(table, "train"), split(table, "test")
    assert train.index.tolist() == list(TRAIN)
    assert test.index.tolist() == list(TEST)
    for video, n in TRAIN.items():
        assert train.loc[video, "source"] == str(videos_tree / "training/videos" / f"{video}.avi")
        assert train.loc[video, "frame_ids"].tolist() == list(range(n))
        assert train.loc[video, "labels"] is None and train.loc[video, "masks"] is None
    for video, n in TEST.items():
        assert test.loc[video, "source"] == str(videos_tree / "testing/frames" / video)
        assert test.loc[video, "frame_ids"].tolist() == list(range(n))
        expected = [int(i in ANOMALIES[video]) for i in range(n)]
        assert test.loc[video, "labels"].tolist() == expected
        assert test.loc[video, "labels"].dtype == np.uint8
        mask_file = videos_tree / "testing/test_pixel_mask" / f"{video}.npy"
        assert test.loc[video, "masks"] == str(mask_file)
        masks = list(read_masks(mask_file))
        assert [int(m.any()) for m in masks] == expected
        for i in ANOMALIES[video]:  # the bright square, and nothing else
            top, left, bottom, right = anomaly_box(i)
            assert masks[i][top:bottom, left:right].all() and masks[i].sum() == SQUARE**2


def test_training_frame_folders(tmp_path: Path) -> None:
    root = make_shanghaitech_tree(tmp_path / "st", train_as="frames")
    table = ShanghaiTechLayout(root).videos()
    train = split(table, "train")
    assert train.index.tolist() == list(TRAIN)
    assert train.loc["01_002", "source"] == str(root / "training/frames/01_002")
    assert train.loc["01_002", "frame_ids"].tolist() == list(range(TRAIN["01_002"]))


def test_videos_preferred_over_frames_unless_train_dir(tree: Path) -> None:
    make_shanghaitech_tree(tree, train_as="frames", train={"01_001": 6}, test={})
    train = split(ShanghaiTechLayout(tree).videos(), "train")
    assert train.index.tolist() == list(TRAIN)
    assert train.loc["01_001", "source"].endswith("01_001.avi")
    chosen = split(ShanghaiTechLayout(tree, train_dir="training/frames").videos(), "train")
    assert chosen.index.tolist() == ["01_001"]
    assert len(chosen.loc["01_001", "frame_ids"]) == 6


def test_no_training_footage_names_both_folders(tree: Path) -> None:
    shutil.rmtree(tree / "training/videos")
    with pytest.raises(DataError, match=r"training/videos nor .*training/frames"):
        ShanghaiTechLayout(tree).videos()


def test_scene_filter_through_the_datamodule(videos_tree: Path, tmp_path: Path) -> None:
    table = datamodule(videos_tree, tmp_path, scenes=[1]).table
    assert split(table, "train").index.tolist() == ["01_001", "01_002"]
    assert split(table, "test").index.tolist() == ["01_0014", "01_0015"]
    table = datamodule(videos_tree, tmp_path, scenes=2).table
    assert table["video"].tolist() == ["02_001", "02_0128"]
    assert len(datamodule(videos_tree, tmp_path).table) == len(TRAIN) + len(TEST)
    layout = ShanghaiTechLayout(videos_tree).select_scenes([2, 1])
    assert len(layout.videos()) == len(TRAIN) + len(TEST)
    assert "scenes=[2, 1]" in repr(layout)


def test_scene_filter_from_the_config(make_cfg, videos_tree: Path) -> None:
    cfg = make_cfg(
        "train", ["data=shanghaitech", f"data.root={videos_tree}", "data.scenes=[2]"], tiny=False
    )
    table = hydra.utils.instantiate(cfg.data).table
    assert table["video"].tolist() == ["02_001", "02_0128"]


def test_scenes_beyond_13_when_present(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = make_shanghaitech_tree(
        tmp_path / "st", train={"14_001": 6, "01_001": 6}, test={"14_0001": 6}, anomalies={}
    )
    table = ShanghaiTechLayout(root).select_scenes([14]).videos()
    assert table["video"].tolist() == ["14_001", "14_0001"]
    with caplog.at_level("WARNING"):
        table = ShanghaiTechLayout(root).select_scenes([1]).videos()
    assert table["video"].tolist() == ["01_001"]
    assert "scene(s) [1] have no test video" in caplog.text


def test_unknown_scene_is_named_with_the_scenes_found(videos_tree: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"scene\(s\) \[5\].*scenes found: \[1, 2\]"):
        _ = datamodule(videos_tree, tmp_path, scenes=[1, 5]).table


@pytest.mark.parametrize("scenes", [[], "1", [1.5], [True], 2.0])
def test_bad_scene_values(videos_tree: Path, scenes: object) -> None:
    with pytest.raises(DataError, match=r"data\.scenes=.*scene numbers"):
        ShanghaiTechLayout(videos_tree).select_scenes(scenes)  # type: ignore[arg-type]


def test_scenes_on_a_layout_without_scenes(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"data\.scenes=\[1\].*\(shanghaitech\).*FramesLayout"):
        VideoDataModule(FramesLayout(tmp_path), 16, 1, tmp_path / "cache", scenes=[1])
    assert FramesLayout(tmp_path).select_scenes(None) is not None


def test_missing_frame_mask_names_the_file(tree: Path) -> None:
    missing = tree / "testing/test_frame_mask/01_0015.npy"
    missing.unlink()
    with pytest.raises(DataError, match=f"{at(missing)}: frame mask .*'01_0015' not found"):
        ShanghaiTechLayout(tree).videos()


def test_frame_mask_length_names_the_file(tree: Path) -> None:
    path = tree / "testing/test_frame_mask/02_0128.npy"
    np.save(path, np.zeros(TEST["02_0128"] + 3, dtype=np.uint8))
    with pytest.raises(DataError, match=f"{at(path)}: 15 labels .*'02_0128' but it has 12 frames"):
        ShanghaiTechLayout(tree).videos()


def test_without_frame_masks(tree: Path) -> None:
    shutil.rmtree(tree / "testing/test_frame_mask")
    with pytest.raises(DataError, match=r"test_frame_mask: .*data\.layout\.frame_mask_dir=null"):
        ShanghaiTechLayout(tree).videos()
    table = ShanghaiTechLayout(tree, frame_mask_dir=None).videos()
    assert split(table, "test")["labels"].isna().all()


def test_missing_pixel_mask_names_the_file(tree: Path) -> None:
    missing = tree / "testing/test_pixel_mask/01_0014.npy"
    missing.unlink()
    with pytest.raises(DataError, match=f"{at(missing)}: pixel mask of test video '01_0014' not"):
        ShanghaiTechLayout(tree).videos()


def test_pixel_mask_folder_absent_hints_null(tree: Path) -> None:
    shutil.rmtree(tree / "testing/test_pixel_mask")
    with pytest.raises(DataError, match=r"test_pixel_mask: .*data\.layout\.pixel_mask_dir=null"):
        ShanghaiTechLayout(tree).videos()
    table = ShanghaiTechLayout(tree, pixel_mask_dir=None).videos()
    assert table["masks"].isna().all()
    assert split(table, "test").loc["01_0014", "labels"].sum() == len(ANOMALIES["01_0014"])


def test_pixel_mask_frame_count_names_the_file(tree: Path) -> None:
    path = tree / "testing/test_pixel_mask/01_0015.npy"
    np.save(path, np.zeros((TEST["01_0015"] - 2, 48, 64), dtype=np.uint8))
    with pytest.raises(DataError, match=f"{at(path)}: 10 masks but test video '01_0015' has 12"):
        ShanghaiTechLayout(tree).videos()


@pytest.mark.parametrize(
    "folder, bad",
    [("training/videos", "1_001.avi"), ("testing/frames", "01-0016"), ("testing/frames", "x")],
)
def test_bad_video_name_is_named(tree: Path, folder: str, bad: str) -> None:
    if folder.startswith("training"):
        shutil.copy(tree / folder / "01_001.avi", tree / folder / bad)
    else:
        shutil.copytree(tree / folder / "01_0014", tree / folder / bad)
    with pytest.raises(
        DataError, match=f"{at(tree / folder / bad)}: video name .*SS_VVV or SS_VVVV"
    ):
        ShanghaiTechLayout(tree).videos()
