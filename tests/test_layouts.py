"""Dataset layouts: frames folders, UCSD and Avenue on tiny generated datasets."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import scipy.io

from tests.helpers import make_frames_dataset, write_frames, write_gt_mat, write_video
from vad.data.layouts import (
    AvenueLayout,
    FramesLayout,
    UCSDLayout,
)
from vad.data.table import COLUMNS, frame_count
from vad.errors import DataError

SIZE = (48, 64)


def rows(table: pd.DataFrame, split: str) -> pd.DataFrame:
    return table[table["split"] == split].set_index("video")


def labels_of(table: pd.DataFrame, video: str) -> list[int]:
    return rows(table, "test").loc[video, "labels"].tolist()


def check_table(table: pd.DataFrame) -> None:
    assert list(table.columns) == COLUMNS
    assert set(table["split"]) <= {"train", "test"}
    for _, row in table.iterrows():
        assert isinstance(row["video"], str)
        assert row["frame_ids"].dtype == np.int64
        assert np.all(np.diff(row["frame_ids"]) > 0)
        if row["labels"] is not None:
            assert row["labels"].dtype == np.uint8
            assert len(row["labels"]) == len(row["frame_ids"])


# --- frames (FFP/MNAD) -----------------------------------------------------------------------


def test_frames_layout_mat_ranges(tmp_path: Path) -> None:
    ranges = [[(3, 5)], [(1, 2), (6, 8)], [(7, 7)]]
    root = make_frames_dataset(
        tmp_path / "ped2", {"01": 6, "02": 8}, {"01": 10, "02": 8, "03": 7}, ranges
    )
    table = FramesLayout(root).videos()  # gt auto-detected as ped2.mat
    check_table(table)
    assert rows(table, "train").index.tolist() == ["01", "02"]
    assert rows(table, "test").index.tolist() == ["01", "02", "03"]
    assert rows(table, "train").loc["02", "frame_ids"].tolist() == list(range(8))
    assert rows(table, "train").loc["01", "labels"] is None
    assert rows(table, "test").loc["01", "source"] == str(root / "testing" / "frames" / "01")
    assert labels_of(table, "01") == [0, 0, 1, 1, 1, 0, 0, 0, 0, 0]
    assert labels_of(table, "02") == [1, 1, 0, 0, 0, 1, 1, 1]
    assert labels_of(table, "03") == [0, 0, 0, 0, 0, 0, 1]
    assert frame_count(table) == 6 + 8 + 10 + 8 + 7


def test_frames_layout_mat_k_by_2_and_explicit_gt(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "data", {"01": 5}, {"01": 9, "02": 6})
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0] = np.array([[1, 1], [3, 4], [8, 9]])  # K x 2: one [start, end] per row
    cell[0, 1] = np.array([[1, 4]])  # a single 1 x 2 range
    scipy.io.savemat(str(root / "labels.mat"), {"frames_gt": cell})
    table = FramesLayout(root, gt="labels.mat", gt_key="frames_gt").videos()
    check_table(table)
    assert labels_of(table, "01") == [1, 0, 1, 1, 0, 0, 0, 1, 1]
    assert labels_of(table, "02") == [1, 1, 1, 1, 0, 0]


def test_frames_layout_npy_labels(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "avenue", {"01": 6}, {"01": 7, "02": 5})
    labels = np.concatenate([[0, 1, 1, 0, 0, 0, 1], [1, 0, 0, 0, 1]]).astype(np.uint8)
    np.save(root / "labels.npy", labels)
    table = FramesLayout(root, gt="labels.npy").videos()
    check_table(table)
    assert labels_of(table, "01") == [0, 1, 1, 0, 0, 0, 1]
    assert labels_of(table, "02") == [1, 0, 0, 0, 1]


def test_frames_layout_npy_auto_detected(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "shanghai", {"01": 6}, {"01": 6})
    np.save(root / "shanghai.npy", np.array([0, 0, 1, 1, 0, 0]))
    table = FramesLayout(root).videos()
    assert labels_of(table, "01") == [0, 0, 1, 1, 0, 0]


def test_frames_layout_without_gt(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "ped2", {"01": 6}, {"01": 7}, [[(1, 3)]])
    table = FramesLayout(root, gt=False).videos()
    check_table(table)
    assert table["labels"].isna().all()
    # auto-detection finds nothing when no <root name>.mat / .npy exists
    (root / "ped2.mat").rename(root / "other.mat")
    table = FramesLayout(root).videos()
    assert table["labels"].isna().all()
    assert FramesLayout(root).gt_file() is None


def test_frames_layout_gt_auto_prefers_root_name(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "ped2", {"01": 6}, {"01": 6}, [[(2, 2)]])
    write_gt_mat(root / "unrelated.mat", [[(1, 6)]])
    assert FramesLayout(root).gt_file() == root / "ped2.mat"
    assert labels_of(FramesLayout(root).videos(), "01") == [0, 1, 0, 0, 0, 0]


# --- UCSD ------------------------------------------------------------------------------------


def make_ucsd(archive: Path, with_m: bool = True) -> Path:
    """UCSDped2 with 2 train videos, 3 test videos (8, 7, 6 frames) and _gt masks."""
    root = archive / "UCSDped2"
    write_frames(root / "Train" / "Train001", range(1, 7), pattern="{:03d}.tif")
    write_frames(root / "Train" / "Train002", range(1, 6), pattern="{:03d}.tif")
    lengths = {"Test001": 8, "Test002": 7, "Test003": 6}
    anomalous = {"Test001": {3, 4, 5}, "Test002": {1, 2, 5, 6}, "Test003": {2, 3, 4}}
    for name, n in lengths.items():
        write_frames(root / "Test" / name, range(1, n + 1), pattern="{:03d}.tif")
        gt_dir = root / "Test" / f"{name}_gt"
        gt_dir.mkdir()
        for t in range(1, n + 1):
            mask = np.zeros(SIZE, np.uint8)
            if t in anomalous[name]:
                mask[10:14, 20:23] = 255
            cv2.imwrite(str(gt_dir / f"{t:03d}.bmp"), mask)
    (root / "Test" / "Test001_gt" / "._001.bmp").write_bytes(b"junk")
    if with_m:
        (root / "UCSDped2.m").write_text(
            "TestVideoFile = {};\n"
            "TestVideoFile{end+1}.gt_frame = [3:5];\n"
            "TestVideoFile{end+1}.gt_frame = [1:2, 5:6];\n"
            "TestVideoFile{end+1}.gt_frame = [2:4];\n"
            "NumOfTestFile = length(TestVideoFile);\n"
        )
    return root


UCSD_LABELS = {
    "001": [0, 0, 1, 1, 1, 0, 0, 0],
    "002": [1, 1, 0, 0, 1, 1, 0],
    "003": [0, 1, 1, 1, 0, 0],
}


@pytest.mark.parametrize("gt", ["m", "auto", "masks"])
def test_ucsd_layout(tmp_path: Path, gt: str) -> None:
    root = make_ucsd(tmp_path / "UCSD_Anomaly_Dataset.v1p2")
    table = UCSDLayout(root, gt=gt).videos()
    check_table(table)
    assert rows(table, "train").index.tolist() == ["001", "002"]
    assert rows(table, "test").index.tolist() == ["001", "002", "003"]  # no *_gt videos
    assert not any(s.endswith("_gt") for s in table["source"])
    assert rows(table, "train").loc["001", "frame_ids"].tolist() == [1, 2, 3, 4, 5, 6]
    assert rows(table, "test").loc["002", "frame_ids"].tolist() == list(range(1, 8))
    assert rows(table, "test").loc["003", "source"] == str(root / "Test" / "Test003")
    for video, expected in UCSD_LABELS.items():
        assert labels_of(table, video) == expected


def test_ucsd_m_and_masks_differ_when_they_disagree(tmp_path: Path) -> None:
    root = make_ucsd(tmp_path / "archive")
    (root / "UCSDped2.m").write_text(
        "\n".join(f"TestVideoFile{{end+1}}.gt_frame = [{r}];" for r in ("1:1", "7:7", "6"))
    )
    from_m = UCSDLayout(root, gt="m").videos()
    assert labels_of(from_m, "001") == [1, 0, 0, 0, 0, 0, 0, 0]
    assert labels_of(from_m, "002") == [0, 0, 0, 0, 0, 0, 1]
    assert labels_of(from_m, "003") == [0, 0, 0, 0, 0, 1]
    from_masks = UCSDLayout(root, gt="masks").videos()
    assert labels_of(from_masks, "001") == UCSD_LABELS["001"]


def test_ucsd_subset_form_and_auto_falls_back_to_masks(tmp_path: Path) -> None:
    archive = tmp_path / "UCSD_Anomaly_Dataset.v1p2"
    make_ucsd(archive, with_m=False)
    layout = UCSDLayout(archive, subset="UCSDped2")
    assert layout.root == archive / "UCSDped2"
    table = layout.videos()
    for video, expected in UCSD_LABELS.items():
        assert labels_of(table, video) == expected
    with pytest.raises(DataError, match=r"UCSDpedN\.m") as info:
        UCSDLayout(archive, subset="UCSDped2", gt="m").videos()
    assert str(archive / "UCSDped2") in str(info.value)


def test_ucsd_bad_gt_option() -> None:
    with pytest.raises(DataError, match="gt must be"):
        UCSDLayout("/nonexistent", gt="csv")


def test_ucsd_mask_count_mismatch(tmp_path: Path) -> None:
    root = make_ucsd(tmp_path / "archive", with_m=False)
    mask_dir = root / "Test" / "Test002_gt"
    (mask_dir / "007.bmp").unlink()
    with pytest.raises(DataError, match="6 masks but 7 frames") as info:
        UCSDLayout(root, gt="masks").videos()
    assert str(mask_dir) in str(info.value)


def test_ucsd_m_entry_count_mismatch(tmp_path: Path) -> None:
    root = make_ucsd(tmp_path / "archive")
    (root / "UCSDped2.m").write_text("TestVideoFile{end+1}.gt_frame = [3:5];\n")
    with pytest.raises(DataError, match="1 ground-truth entries but 3 test videos") as info:
        UCSDLayout(root).videos()
    assert str(root / "UCSDped2.m") in str(info.value)


# --- Avenue ----------------------------------------------------------------------------------


def write_vol_label(path: Path, anomalous: list[int], n: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cell = np.empty((1, n), dtype=object)
    for t in range(n):
        mask = np.zeros(SIZE, np.uint8)
        if t in anomalous:
            mask[5, 7] = 1
        cell[0, t] = mask
    scipy.io.savemat(str(path), {"volLabel": cell})
    return path


def make_avenue(root: Path) -> Path:
    write_video(root / "training_videos" / "01.avi", 6)
    write_video(root / "training_videos" / "02.avi", 5)
    write_video(root / "testing_videos" / "01.avi", 8)
    write_video(root / "testing_videos" / "02.avi", 6)
    gt = root / "ground_truth_demo" / "testing_label_mask"
    write_vol_label(gt / "1_label.mat", [2, 3, 7], 8)
    write_vol_label(gt / "2_label.mat", [], 6)
    return root


def test_avenue_layout(tmp_path: Path) -> None:
    root = make_avenue(tmp_path / "Avenue Dataset")
    table = AvenueLayout(root).videos()
    check_table(table)
    assert rows(table, "train").index.tolist() == ["01", "02"]
    assert rows(table, "test").index.tolist() == ["01", "02"]
    assert rows(table, "train").loc["02", "frame_ids"].tolist() == list(range(5))
    assert rows(table, "test").loc["01", "frame_ids"].tolist() == list(range(8))
    assert labels_of(table, "01") == [0, 0, 1, 1, 0, 0, 0, 1]
    assert labels_of(table, "02") == [0] * 6
    assert table["labels"].notna().sum() == 2
    table = AvenueLayout(root, gt_dir=None).videos()
    assert table["labels"].isna().all()


def test_avenue_missing_label_file(tmp_path: Path) -> None:
    root = make_avenue(tmp_path / "avenue")
    missing = root / "ground_truth_demo" / "testing_label_mask" / "2_label.mat"
    missing.unlink()
    with pytest.raises(DataError, match="not found") as info:
        AvenueLayout(root).videos()
    assert str(missing) in str(info.value) and "02.avi" in str(info.value)


def test_avenue_label_count_mismatch(tmp_path: Path) -> None:
    root = make_avenue(tmp_path / "avenue")
    bad = write_vol_label(root / "ground_truth_demo" / "testing_label_mask" / "1_label.mat", [1], 9)
    with pytest.raises(DataError, match="9 labels") as info:
        AvenueLayout(root).videos()
    assert str(bad) in str(info.value) and "8 frames" in str(info.value)
