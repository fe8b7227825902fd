"""Property: over random small datasets with random defects in their ground truth, the listing
either reports the defect (naming the file) or serves every label the user gave unchanged.

A seeded generator (no extra dependency) builds each case: test videos with random frame ids
(gaps, offsets), their labels written as a labels CSV (folder layout) or as a ``.npy`` / ``.mat``
(frames layout, with pixel-mask folders), then one defect. Harmful defects (a label that would
be dropped, moved or altered) must be reported; harmless ones (row order, spaces, range order)
must be read with every label unchanged. Nothing is decoded or trained: the labels table the
DataModule serves is compared with what was written.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers import write_gt_mat
from vad.data.datamodule import VideoDataModule
from vad.data.layouts import FolderLayout, FramesLayout
from vad.errors import DataError

CASES = 40
PIXEL = np.full((4, 4), 128, np.uint8)
CSV_HARMFUL = (
    "unknown_video",
    "training_video",
    "frame_beyond",
    "missing_row",
    "duplicate_row",
    "bad_label",
    "fractional_frame",
    "negative_frame",
    "empty_video",
)
CSV_HARMLESS = ("none", "shuffled", "spaces")
FRAMES_HARMFUL = ("npy_long", "npy_short", "mat_extra_video", "mat_beyond", "orphan_masks")
FRAMES_HARMLESS = ("none", "ranges_unordered")

Truth = dict[tuple[str, int], int]


def frame_ids(rng: np.random.Generator) -> list[int]:
    """2 to 7 increasing ids with a random start and random gaps."""
    steps = rng.choice([1, 1, 1, 2, 5], size=int(rng.integers(2, 8)))
    return (int(rng.integers(0, 50)) + np.cumsum(steps)).tolist()


def write_video(folder: Path, ids: list[int]) -> None:
    folder.mkdir(parents=True)
    for i in ids:
        cv2.imwrite(str(folder / f"{i:04d}.png"), PIXEL)


def served(root: Path, layout) -> Truth:
    """{(video, frame id): label} of the test videos, as the DataModule serves them."""
    module = VideoDataModule(layout, 4, 1, root / "cache", val_videos=0)
    table = module.split_table("test")
    return {
        (row.video, int(f)): int(lab)
        for row in table.itertuples()
        for f, lab in zip(row.frame_ids, row.labels, strict=True)
    }


def folder_case(root: Path, rng: np.random.Generator, defect: str) -> tuple[Path, Truth]:
    """A folder layout with a labels CSV; the CSV path and the labels the user meant."""
    write_video(root / "train" / "walk", frame_ids(rng))
    truth: Truth = {}
    for v in range(int(rng.integers(1, 4))):
        ids = frame_ids(rng)
        write_video(root / "test" / f"cam{v}", ids)
        truth.update({(f"cam{v}", i): int(rng.integers(0, 2)) for i in ids})
    rows = [[video, str(frame), str(label)] for (video, frame), label in truth.items()]
    pick = int(rng.integers(len(rows)))
    if defect == "unknown_video":
        rows.append(["cam9", "0", "1"])
    elif defect == "training_video":
        rows.append(["walk", "0", "0"])
    elif defect == "frame_beyond":
        last = max(f for v, f in truth if v == rows[pick][0])
        rows.append([rows[pick][0], str(last + int(rng.integers(1, 4))), "1"])
    elif defect == "missing_row":
        rows.pop(pick)
    elif defect == "duplicate_row":
        rows.append(list(rows[pick]))
    elif defect == "bad_label":
        rows[pick][2] = str(rng.choice(["2", "-1", "0.5", "yes"]))
    elif defect == "fractional_frame":
        rows[pick][1] += ".5"
    elif defect == "negative_frame":
        rows[pick][1] = "-" + rows[pick][1]
    elif defect == "empty_video":
        rows[pick][0] = ""
    elif defect == "shuffled":
        rows = [rows[i] for i in rng.permutation(len(rows))]
    elif defect == "spaces":
        rows[pick] = [rows[pick][0], f" {rows[pick][1]}", f"{rows[pick][2]} "]
    csv = root / "labels.csv"
    csv.write_text("video,frame,label\n" + "".join(",".join(r) + "\n" for r in rows))
    return csv, truth


def frames_case(root: Path, rng: np.random.Generator, defect: str) -> tuple[Path, Truth]:
    """A frames layout with ``.npy`` or ``.mat`` labels and pixel-mask folders."""
    write_video(root / "training" / "frames" / "01", frame_ids(rng))
    truth: Truth = {}
    per_video = []
    for v in range(1, int(rng.integers(2, 4)) + 1):
        ids = frame_ids(rng)
        write_video(root / "testing" / "frames" / f"{v:02d}", ids)
        write_video(root / "testing" / "masks" / f"{v:02d}", list(range(len(ids))))
        labels = rng.integers(0, 2, size=len(ids))
        truth.update({(f"{v:02d}", i): int(lab) for i, lab in zip(ids, labels, strict=True)})
        per_video.append(labels)
    if defect == "orphan_masks":
        write_video(root / "testing" / "masks" / "07", [0, 1])
        return root / "testing" / "masks", truth
    if defect.startswith("npy"):
        flat = np.concatenate(per_video).astype(np.uint8)
        flat = np.append(flat, 1) if defect == "npy_long" else flat[:-1]
        np.save(root / "gt.npy", flat)
        return root / "gt.npy", truth
    if rng.random() < 0.5 and defect == "none":
        np.save(root / "gt.npy", np.concatenate(per_video).astype(np.uint8))
        return root / "gt.npy", truth
    ranges = [runs(labels) for labels in per_video]
    if defect == "mat_extra_video":
        ranges.append([(1, 1)])
    elif defect == "mat_beyond":
        ranges[0].append((len(per_video[0]), len(per_video[0]) + 1))
    elif defect == "ranges_unordered":
        ranges = [r[::-1] for r in ranges]
    write_gt_mat(root / "gt.mat", ranges)
    return root / "gt.mat", truth


def runs(labels: np.ndarray) -> list[tuple[int, int]]:
    """1-based inclusive (start, end) ranges of the anomalous positions."""
    edges = np.diff(np.concatenate([[0], labels, [0]]))
    starts, ends = np.flatnonzero(edges == 1) + 1, np.flatnonzero(edges == -1)
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


@pytest.mark.parametrize("kind", ["folder", "frames"])
def test_ground_truth_is_reported_or_served_unchanged(tmp_path: Path, kind: str) -> None:
    rng = np.random.default_rng(29 if kind == "folder" else 30)
    harmful, harmless = (
        (CSV_HARMFUL, CSV_HARMLESS) if kind == "folder" else (FRAMES_HARMFUL, FRAMES_HARMLESS)
    )
    defects = list(harmful + harmless)
    for case in range(CASES):
        defect = defects[case % len(defects)] if case < len(defects) else rng.choice(defects)
        root = tmp_path / f"{kind}{case}"
        if kind == "folder":
            where, truth = folder_case(root, rng, str(defect))
            layout = FolderLayout(root)
        else:
            where, truth = frames_case(root, rng, str(defect))
            layout = FramesLayout(root, gt=where.name if where.suffix else None)
        if defect in harmful:
            with pytest.raises(DataError) as info:
                served(root, layout)
            assert str(where) in str(info.value), (case, defect, str(info.value))
        else:
            assert served(root, layout) == truth, (case, defect)
