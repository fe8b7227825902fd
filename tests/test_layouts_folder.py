"""Dataset layouts: Pixelplay and plain folders of footage."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import write_frames, write_video
from tests.test_layouts import check_table, labels_of, rows
from vad.data.layouts import FolderLayout, PixelplayLayout
from vad.errors import DataError

# --- Pixelplay -------------------------------------------------------------------------------

TEST_IDS = [3, 4, 5, 7, 8, 12, 13, 14, 15]


def make_pixelplay(parent: Path) -> Path:
    dataset = parent / "Dataset"
    write_frames(dataset / "training_videos" / "01", range(8), pattern="frame_{:05d}.jpg")
    write_frames(dataset / "training_videos" / "02", range(6), pattern="frame_{:05d}.jpg")
    write_frames(dataset / "testing_videos" / "01", TEST_IDS, pattern="frame_{:05d}.jpg")
    write_frames(dataset / "testing_videos" / "02", [0, 1, 2, 939, 940], pattern="frame_{:05d}.jpg")
    return dataset


@pytest.mark.parametrize("given", ["parent", "dataset"])
def test_pixelplay_layout(tmp_path: Path, given: str) -> None:
    dataset = make_pixelplay(tmp_path / "comp")
    layout = PixelplayLayout(tmp_path / "comp" if given == "parent" else dataset)
    assert layout.root == dataset
    table = layout.videos()
    check_table(table)
    assert rows(table, "train").index.tolist() == ["01", "02"]
    assert rows(table, "test").index.tolist() == ["01", "02"]
    assert rows(table, "train").loc["01", "frame_ids"].tolist() == list(range(8))
    assert rows(table, "test").loc["01", "frame_ids"].tolist() == TEST_IDS
    assert rows(table, "test").loc["02", "frame_ids"].tolist() == [0, 1, 2, 939, 940]
    assert table["labels"].isna().all()


def test_pixelplay_labels_csv(tmp_path: Path) -> None:
    dataset = make_pixelplay(tmp_path)
    truth = {("01", t): int(t in (5, 7, 13)) for t in TEST_IDS}
    truth.update({("02", t): int(t >= 939) for t in (0, 1, 2, 939, 940)})
    csv_rows = [{"video": v, "frame": t, "label": lab} for (v, t), lab in truth.items()]
    csv = pd.DataFrame(csv_rows).sample(frac=1, random_state=0)  # order must not matter
    csv.to_csv(dataset / "labels.csv", index=False)
    table = PixelplayLayout(tmp_path, labels="labels.csv").videos()
    check_table(table)
    assert labels_of(table, "01") == [int(t in (5, 7, 13)) for t in TEST_IDS]
    assert labels_of(table, "02") == [0, 0, 0, 1, 1]
    assert rows(table, "train")["labels"].isna().all()


def test_pixelplay_labels_for_missing_frames(tmp_path: Path) -> None:
    dataset = make_pixelplay(tmp_path)
    lines = ["video,frame,label"] + [f"01,{t},0" for t in TEST_IDS if t != 12]
    lines += [f"02,{t},0" for t in (0, 1, 2, 939, 940)]
    (dataset / "labels.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"lacks labels for 1 frames \(first: \[12\]\)") as info:
        PixelplayLayout(dataset, labels="labels.csv").videos()
    assert str(dataset / "labels.csv") in str(info.value)


# --- Folder ----------------------------------------------------------------------------------


def make_folder_dataset(root: Path, train: bool = True) -> Path:
    if train:
        write_video(root / "train" / "cam1.avi", 6)
        write_frames(root / "train" / "walk", range(5))
    write_video(root / "test" / "cam2.avi", 7)
    write_frames(root / "test" / "run", [10, 11, 12, 14])
    (root / "test" / "README.txt").write_text("not a video")
    return root


def folder_labels(root: Path, skip: str | None = None) -> Path:
    lines = ["video,frame,label"]
    lines += [f"cam2,{t},{int(t in (2, 3))}" for t in range(7) if skip != "cam2"]
    lines += [f"run,{t},{int(t == 14)}" for t in (10, 11, 12, 14) if skip != "run"]
    path = root / "labels.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_folder_layout(tmp_path: Path) -> None:
    root = make_folder_dataset(tmp_path / "footage")
    table = FolderLayout(root).videos()  # no labels.csv: no labels
    check_table(table)
    assert rows(table, "train").index.tolist() == ["cam1", "walk"]
    assert rows(table, "test").index.tolist() == ["cam2", "run"]
    assert rows(table, "train").loc["cam1", "frame_ids"].tolist() == list(range(6))
    assert rows(table, "train").loc["walk", "frame_ids"].tolist() == list(range(5))
    assert rows(table, "test").loc["run", "frame_ids"].tolist() == [10, 11, 12, 14]
    assert table["labels"].isna().all()
    folder_labels(root)
    table = FolderLayout(root).videos()
    check_table(table)
    assert labels_of(table, "cam2") == [0, 0, 1, 1, 0, 0, 0]
    assert labels_of(table, "run") == [0, 0, 0, 1]
    assert rows(table, "train")["labels"].isna().all()


def test_folder_layout_test_only(tmp_path: Path) -> None:
    root = make_folder_dataset(tmp_path / "footage", train=False)
    folder_labels(root)
    table = FolderLayout(root, train_dir=None).videos()
    check_table(table)
    assert set(table["split"]) == {"test"}
    assert table["video"].tolist() == ["cam2", "run"]
    assert labels_of(table, "cam2") == [0, 0, 1, 1, 0, 0, 0]
    with pytest.raises(DataError, match="expected folder not found") as info:
        FolderLayout(root).videos()
    assert str(root / "train") in str(info.value)
