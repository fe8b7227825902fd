"""``data=ped1`` on tiny trees of the distributed shapes: the frames layout with ``ped1.mat``
(two anomalous ranges in one video) and the original archive with ``UCSDped1.m``."""

from __future__ import annotations

from pathlib import Path

import hydra
import numpy as np

from tests.conftest import compose_config
from tests.helpers import write_frames, write_gt_mat
from vad.tasks.instantiate import build, instantiate_datamodule

#: Ped1's frames are 238 x 158 (width x height)
SIZE = (158, 238)
#: 1-based inclusive ranges; the second video has two, as Test005 of UCSDped1.m ([5:90, 140:200])
RANGES = [[(3, 5)], [(1, 2), (6, 8)]]
EXPECTED = {"01": [0, 0, 1, 1, 1, 0, 0, 0], "02": [1, 1, 0, 0, 0, 1, 1, 1, 0]}


def frames_tree(root: Path) -> Path:
    for split, videos in (("training", {"01": 6, "02": 5}), ("testing", {"01": 8, "02": 9})):
        for video, n in videos.items():
            write_frames(root / split / "frames" / video, range(n), size=SIZE)
    write_gt_mat(root / "ped1.mat", RANGES)
    return root


def archive_tree(archive: Path) -> Path:
    root = archive / "UCSDped1"
    for name, n in {"Train001": 6, "Train002": 5}.items():
        write_frames(root / "Train" / name, range(1, n + 1), "{:03d}.tif", SIZE)
    for name, n in {"Test001": 8, "Test002": 9}.items():
        write_frames(root / "Test" / name, range(1, n + 1), "{:03d}.tif", SIZE)
    (root / "UCSDped1.m").write_text(
        "TestVideoFile = {};\n"
        "TestVideoFile{end+1}.gt_frame = [3:5];\n"
        "TestVideoFile{end+1}.gt_frame = [1:2, 6:8];   % two ranges\n"
        "NumOfTestFile = length(TestVideoFile);\n"
    )
    return archive


def test_data_ped1_reads_the_frames_distribution(tmp_path: Path, shared_dir: Path) -> None:
    root = frames_tree(tmp_path / "ped1")
    cfg = compose_config(
        "train", ["data=ped1", f"data.root={root}", "data.val_videos=1"], tmp_path, shared_dir
    )
    table = hydra.utils.instantiate(cfg.data).split_table("test")
    labels = dict(zip(table["video"], table["labels"], strict=True))
    assert {v: labels[v].tolist() for v in EXPECTED} == EXPECTED
    assert table.set_index("video").loc["02", "frame_ids"].tolist() == list(range(9))


def test_data_ucsd_reads_the_ped1_archive(tmp_path: Path, shared_dir: Path) -> None:
    archive = archive_tree(tmp_path / "UCSD_Anomaly_Dataset.v1p2")
    overrides = [
        "data=ucsd",
        f"data.root={archive}",
        "data.layout.subset=UCSDped1",
        "data.val_videos=1",
    ]
    cfg = compose_config("train", overrides, tmp_path, shared_dir)
    table = hydra.utils.instantiate(cfg.data).split_table("test")
    labels = {
        v: np.asarray(x).tolist() for v, x in zip(table["video"], table["labels"], strict=True)
    }
    assert labels == {"001": EXPECTED["01"], "002": EXPECTED["02"]}
    assert table.set_index("video").loc["002", "frame_ids"].tolist() == list(range(1, 10))


def test_model_presets_read_the_frame_size_from_the_data(tmp_path: Path, shared_dir: Path) -> None:
    """``experiment=density`` keeps the frames' own size: Ped1's 158 x 238, never a Ped2 size."""
    root = frames_tree(tmp_path / "ped1")
    overrides = ["experiment=density", "data=ped1", f"data.root={root}", "data.val_videos=1"]
    cfg = compose_config("train", overrides, tmp_path, shared_dir)
    assert cfg.data.image_size == "native"
    datamodule = instantiate_datamodule(cfg.data)
    assert datamodule.image_size == SIZE and list(cfg.data.image_size) == list(SIZE)
    assert build(cfg.model).image_size == SIZE  # the model follows the data's size
