"""Every entry of a labels file and every mask lands on a test video and frame that exist: an
entry for another video, or a mask folder without its video, is an error naming the file and the
ids when the layout is listed (before any frame is decoded or any training)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import make_frames_dataset, write_gt_mat
from tests.shanghaitech_tree import make_shanghaitech_tree
from tests.test_layouts import make_avenue, make_ucsd, write_vol_label
from tests.test_layouts_folder import folder_labels, make_folder_dataset
from tests.test_masks import square_masks, write_masks
from vad.data.layouts import (
    AvenueLayout,
    FolderLayout,
    FramesLayout,
    ShanghaiTechLayout,
    UCSDLayout,
)
from vad.errors import DataError


def _message(layout) -> str:
    with pytest.raises(DataError) as info:
        layout.videos()
    return str(info.value)


def test_labels_csv_rows_of_an_unknown_video_are_named(tmp_path: Path) -> None:
    root = make_folder_dataset(tmp_path / "footage")
    csv = folder_labels(root)
    with open(csv, "a") as handle:
        handle.write("cam7,0,1\ncam7,1,0\n")
    message = _message(FolderLayout(root))
    assert str(csv) in message and "label rows for 1 video(s) that are not test videos" in message
    assert "['cam7']" in message and "['cam2', 'run']" in message


def test_labels_csv_rows_of_a_training_video_are_named_as_such(tmp_path: Path) -> None:
    root = make_folder_dataset(tmp_path / "footage")
    csv = folder_labels(root)
    with open(csv, "a") as handle:
        handle.write("walk,0,0\n")
    message = _message(FolderLayout(root))
    assert str(csv) in message and "['walk'] are training videos" in message


def test_labels_csv_row_without_a_video_names_its_line(tmp_path: Path) -> None:
    root = make_folder_dataset(tmp_path / "footage")
    csv = folder_labels(root)
    with open(csv, "a") as handle:
        handle.write(",3,1\n")
    message = _message(FolderLayout(root))
    assert str(csv) in message and "empty video, frame or label cells on line(s) [13]" in message


def test_frames_layout_mask_folder_without_a_test_video(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "ds", {"01": 6}, {"01": 6})
    masks = root / "testing" / "masks"
    write_masks(masks / "01", square_masks(6))
    write_masks(masks / "03", square_masks(6))
    message = _message(FramesLayout(root, gt=False))
    assert str(masks) in message and "pixel masks for 1 video(s)" in message and "['03']" in message


def test_frames_layout_mask_folder_of_a_training_video(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "ds", {"01": 6, "02": 6}, {"01": 6})
    masks = root / "testing" / "masks"
    write_masks(masks / "01", square_masks(6))
    write_masks(masks / "02", square_masks(6))
    assert "['02'] are training videos" in _message(FramesLayout(root, gt=False))


def test_frames_layout_mat_with_more_ranges_than_videos_names_both(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "ped2", {"01": 6}, {"01": 6})
    write_gt_mat(root / "ped2.mat", [[(1, 2)], [(3, 4)]])
    message = _message(FramesLayout(root))
    assert (
        str(root / "ped2.mat") in message and "2 ground-truth entries but 1 test videos" in message
    )


def test_ucsd_gt_folder_without_its_video(tmp_path: Path) -> None:
    root = make_ucsd(tmp_path / "UCSD")
    shutil.rmtree(root / "Test" / "Test003")
    (root / "UCSDped2.m").unlink()  # the .m's entry count would be reported first
    message = _message(UCSDLayout(root))
    assert str(root / "Test") in message and "_gt pixel-mask folders" in message
    assert "['Test003']" in message


def test_ucsd_m_range_beyond_the_video(tmp_path: Path) -> None:
    root = make_ucsd(tmp_path / "UCSD")
    text = (root / "UCSDped2.m").read_text().replace("[2:4]", "[2:9]")
    (root / "UCSDped2.m").write_text(text)
    message = _message(UCSDLayout(root))
    assert str(root / "UCSDped2.m") in message and "[2:9] outside the video's 6 frames" in message


def test_avenue_label_file_without_its_video(tmp_path: Path) -> None:
    root = make_avenue(tmp_path / "avenue")
    folder = root / "ground_truth_demo" / "testing_label_mask"
    write_vol_label(folder / "3_label.mat", [1], 6)
    message = _message(AvenueLayout(root))
    assert str(folder) in message and "label files for 1 video(s)" in message and "['3']" in message


def test_avenue_label_file_longer_than_its_video(tmp_path: Path) -> None:
    root = make_avenue(tmp_path / "avenue")
    label = root / "ground_truth_demo" / "testing_label_mask" / "2_label.mat"
    write_vol_label(label, [7], 8)  # the video has 6 frames
    message = _message(AvenueLayout(root))
    assert str(label) in message and "8 labels for video '02' but it has 6 frames" in message


@pytest.mark.parametrize("folder", ["test_frame_mask", "test_pixel_mask"])
def test_shanghaitech_ground_truth_without_its_video(tmp_path: Path, folder: str) -> None:
    root = make_shanghaitech_tree(tmp_path / "st", train_as="frames")
    np.save(root / "testing" / folder / "01_0099.npy", np.zeros(12, np.uint8))
    message = _message(ShanghaiTechLayout(root))
    assert str(root / "testing" / folder) in message and "['01_0099']" in message
    # a file of a scene that data.scenes leaves out is not read, so it is not an error
    shutil.move(
        root / "testing" / folder / "01_0099.npy", root / "testing" / folder / "03_0001.npy"
    )
    table = ShanghaiTechLayout(root).select_scenes([1, 2]).videos()
    assert set(table.query("split == 'test'")["video"]) == {"01_0014", "01_0015", "02_0128"}
    assert "['03_0001']" in _message(ShanghaiTechLayout(root))


def test_shanghaitech_frame_labels_beyond_the_video(tmp_path: Path) -> None:
    root = make_shanghaitech_tree(tmp_path / "st", train_as="frames")
    labels = root / "testing" / "test_frame_mask" / "01_0015.npy"
    np.save(labels, np.zeros(14, np.uint8))
    message = _message(ShanghaiTechLayout(root))
    assert (
        str(labels) in message and "14 labels for video '01_0015' but it has 12 frames" in message
    )
