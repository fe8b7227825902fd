"""Layouts reject bad input with a clear error naming the file and the problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io

from tests.helpers import make_frames_dataset, write_gt_mat
from tests.test_layouts_folder import folder_labels, make_folder_dataset
from vad.data.layouts import (
    AvenueLayout,
    FolderLayout,
    FramesLayout,
    Layout,
    PixelplayLayout,
    UCSDLayout,
)
from vad.errors import DataError


@pytest.mark.parametrize(
    "factory", [FramesLayout, UCSDLayout, AvenueLayout, FolderLayout, PixelplayLayout]
)
def test_missing_root(tmp_path: Path, factory: type[Layout]) -> None:
    root = tmp_path / "does_not_exist"
    layout = factory(root)  # constructing touches no file
    assert not root.exists()
    with pytest.raises(DataError, match="dataset root not found") as info:
        layout.videos()
    assert str(root) in str(info.value)


def test_npy_label_count_mismatch(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "data", {"01": 6}, {"01": 7, "02": 5})
    np.save(root / "gt.npy", np.zeros(13, np.uint8))
    with pytest.raises(DataError, match="13 labels but the test videos have 12 frames") as info:
        FramesLayout(root, gt="gt.npy").videos()
    assert str(root / "gt.npy") in str(info.value)


def test_npy_labels_not_binary(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "data", {"01": 6}, {"01": 6})
    np.save(root / "gt.npy", np.array([0, 1, 2, 0, 0, 0]))
    with pytest.raises(DataError, match="0 or 1") as info:
        FramesLayout(root, gt="gt.npy").videos()
    assert str(root / "gt.npy") in str(info.value)


def test_mat_range_past_last_frame(tmp_path: Path) -> None:
    root = make_frames_dataset(
        tmp_path / "ped2", {"01": 6}, {"01": 6, "02": 8}, [[(1, 2)], [(5, 9)]]
    )
    with pytest.raises(DataError, match=r"\[5:9\] outside the video's 8 frames") as info:
        FramesLayout(root).videos()
    message = str(info.value)
    assert str(root / "ped2.mat") in message and "video 02" in message


@pytest.mark.parametrize("bad", [(0, 3), (4, 2)])
def test_mat_range_invalid(tmp_path: Path, bad: tuple[int, int]) -> None:
    root = make_frames_dataset(tmp_path / "ped2", {"01": 6}, {"01": 6}, [[bad]])
    with pytest.raises(DataError, match="outside") as info:
        FramesLayout(root).videos()
    assert str(root / "ped2.mat") in str(info.value)


def test_mat_without_gt_key(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "ped2", {"01": 6}, {"01": 6})
    write_gt_mat(root / "ped2.mat", [[(1, 2)]], key="labels")
    scipy.io.savemat(str(root / "two.mat"), {"alpha": np.zeros(2), "beta": np.ones(3)})
    with pytest.raises(DataError, match="no variable 'gt'") as info:
        FramesLayout(root).videos()
    assert str(root / "ped2.mat") in str(info.value) and "'labels'" in str(info.value)
    with pytest.raises(DataError, match=r"has \['alpha', 'beta'\]") as info:
        FramesLayout(root, gt="two.mat").videos()
    assert str(root / "two.mat") in str(info.value)


def test_mat_entry_count_mismatch(tmp_path: Path) -> None:
    root = make_frames_dataset(
        tmp_path / "ped2", {"01": 6}, {"01": 6, "02": 6}, [[(1, 2)], [(2, 3)], [(3, 4)]]
    )
    with pytest.raises(DataError, match="3 ground-truth entries but 2 test videos") as info:
        FramesLayout(root).videos()
    assert str(root / "ped2.mat") in str(info.value)


def test_explicit_gt_file_missing(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "ped2", {"01": 6}, {"01": 6})
    with pytest.raises(DataError, match="not found") as info:
        FramesLayout(root, gt="nope.mat").videos()
    assert str(root / "nope.mat") in str(info.value)


def test_corrupt_mat(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "ped2", {"01": 6}, {"01": 6})
    (root / "ped2.mat").write_bytes(b"MATLAB 5.0 MAT-file garbage" + bytes(range(200)))
    with pytest.raises(DataError, match="cannot read MATLAB file") as info:
        FramesLayout(root).videos()
    assert str(root / "ped2.mat") in str(info.value)


def test_labels_csv_missing_test_video(tmp_path: Path) -> None:
    root = make_folder_dataset(tmp_path / "footage")
    csv = folder_labels(root, skip="run")
    with pytest.raises(DataError, match="no labels for test video 'run'") as info:
        FolderLayout(root).videos()
    assert str(csv) in str(info.value)


def test_labels_csv_missing_columns(tmp_path: Path) -> None:
    root = make_folder_dataset(tmp_path / "footage")
    csv = root / "labels.csv"
    csv.write_text("video,frame\ncam2,0\n")
    with pytest.raises(DataError, match=r"lacks column\(s\) \['label'\]") as info:
        FolderLayout(root).videos()
    assert str(csv) in str(info.value)


def test_labels_csv_extra_frames(tmp_path: Path) -> None:
    root = make_folder_dataset(tmp_path / "footage")
    csv = folder_labels(root)
    with open(csv, "a") as handle:
        handle.write("run,13,1\n")
    with pytest.raises(DataError, match=r"frames it does not have \(\[13\]\)") as info:
        FolderLayout(root).videos()
    assert str(csv) in str(info.value)


def test_missing_split_folder_and_empty_split(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "ped2", {"01": 6}, {"01": 6})
    (root / "extra" / "frames").mkdir(parents=True)
    with pytest.raises(DataError, match="no videos") as info:
        FramesLayout(root, test_dir="extra/frames").videos()
    assert str(root / "extra" / "frames") in str(info.value)
    with pytest.raises(DataError, match="expected folder not found") as info:
        FramesLayout(root, test_dir="testing/missing").videos()
    assert str(root / "testing" / "missing") in str(info.value)
