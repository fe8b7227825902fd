"""Per-pixel ground truth: every mask format, read, counted and cached with the frames."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers import PED2, make_frames_dataset
from tests.test_layouts import make_avenue, make_ucsd
from vad.data import modalities
from vad.data.cache import FrameCache
from vad.data.layouts import AvenueLayout, FramesLayout, UCSDLayout
from vad.data.masks import check_masks, mask_count, read_masks
from vad.errors import DataError


def write_masks(folder: Path, masks: list[np.ndarray], pattern: str = "{:03d}.png") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, mask in enumerate(masks):
        cv2.imwrite(str(folder / pattern.format(i)), mask.astype(np.uint8) * 255)
    return folder


def square_masks(n: int, size: tuple[int, int] = (48, 64), anomalous=(2, 3)) -> list[np.ndarray]:
    masks = [np.zeros(size, bool) for _ in range(n)]
    for t in anomalous:
        masks[t][10:20, 30:46] = True
    return masks


def test_folder_masks_in_natural_order(tmp_path: Path) -> None:
    """UCSD's Test006 names its masks frame1.bmp ... frame10.bmp: natural order, not text order."""
    masks = square_masks(12, anomalous=(9, 10))
    folder = write_masks(tmp_path / "Test006_gt", masks, pattern="frame{}.bmp")
    read = list(read_masks(folder))
    assert mask_count(folder) == 12
    assert [m.any() for m in read] == [m.any() for m in masks]


def test_npy_and_mat_masks(tmp_path: Path) -> None:
    masks = np.stack(square_masks(5)).astype(np.uint8)
    np.save(tmp_path / "01_0014.npy", masks)
    read = np.stack(list(read_masks(tmp_path / "01_0014.npy")))
    assert read.dtype == bool and (read == masks.astype(bool)).all()
    root = make_avenue(tmp_path / "avenue")
    mat = root / "ground_truth_demo" / "testing_label_mask" / "1_label.mat"
    assert [m.any() for m in read_masks(mat)] == [0, 0, 1, 1, 0, 0, 0, 1]


def test_mask_count_mismatch_names_the_file(tmp_path: Path) -> None:
    folder = write_masks(tmp_path / "01", square_masks(5))
    with pytest.raises(DataError, match=r"01: 5 masks but test video '01' has 6 frames"):
        check_masks(folder, 6, "01")
    with pytest.raises(DataError, match="not found"):
        check_masks(tmp_path / "02", 6, "02")
    np.save(tmp_path / "flat.npy", np.zeros((5, 4)))
    with pytest.raises(DataError, match=r"flat.npy: pixel masks must be a \(frames, height"):
        check_masks(tmp_path / "flat.npy", 5, "flat")


def test_frames_layout_masks(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "ds", {"01": 6}, {"01": 6, "02": 5})
    table = FramesLayout(root, gt=False).videos()
    assert table["masks"].isna().all()  # no testing/masks folder: no pixel ground truth
    write_masks(root / "testing" / "masks" / "01", square_masks(6))
    with pytest.raises(DataError, match=r"masks/02: pixel masks of test video '02' not found"):
        FramesLayout(root, gt=False).videos()
    write_masks(root / "testing" / "masks" / "02", square_masks(5))
    table = FramesLayout(root, gt=False).videos()
    test = table[table["split"] == "test"]
    assert test["masks"].tolist() == [str(root / "testing" / "masks" / v) for v in ("01", "02")]
    assert FramesLayout(root, gt=False, mask_dir=None).videos()["masks"].isna().all()


def test_ucsd_and_avenue_layouts_list_their_masks(tmp_path: Path) -> None:
    root = make_ucsd(tmp_path / "UCSD")
    test = UCSDLayout(root).videos().query("split == 'test'")
    assert [Path(m).name for m in test["masks"]] == ["Test001_gt", "Test002_gt", "Test003_gt"]
    avenue = AvenueLayout(make_avenue(tmp_path / "avenue")).videos().query("split == 'test'")
    assert [Path(m).name for m in avenue["masks"]] == ["1_label.mat", "2_label.mat"]


def test_cached_masks_are_resized_nearest(tmp_path: Path) -> None:
    root = make_frames_dataset(tmp_path / "ds", {"01": 6}, {"01": 6})
    write_masks(root / "testing" / "masks" / "01", square_masks(6))
    table = FramesLayout(root, gt=False).videos()
    video = FrameCache(tmp_path / "cache", (24, 32), 1).load(table.iloc[-1])
    modalities.ensure(video, "masks", {"source": video.masks})
    masks = video.array("masks")
    assert masks.shape == (6, 24, 32) and set(np.unique(masks)) == {0, 1}
    assert masks[2, 5:10, 15:23].all() and masks[2].sum() == 5 * 8
    assert not masks[0].any()


@pytest.mark.skipif(not PED2.is_dir(), reason="UCSD Ped2 not found at ../shared/data/ped2")
def test_ped2_masks_agree_with_the_frame_labels() -> None:
    table = FramesLayout(PED2).videos().query("split == 'test'")
    assert table["masks"].notna().all() and len(table) == 12
    for row in table.itertuples():
        assert mask_count(row.masks) == len(row.frame_ids)
    row = table.iloc[0]
    flags = np.array([m.any() for m in read_masks(row.masks)], dtype=np.uint8)
    assert (flags == row.labels).all()
