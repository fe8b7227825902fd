"""A tiny ShanghaiTech Campus tree in the distributed shape, for layout and end-to-end tests.

    training/videos/SS_VVV.avi            (train_as="videos"; MJPG)
    training/frames/SS_VVV/NNN.jpg        (train_as="frames")
    testing/frames/SS_VVVV/NNN.jpg        (0-based names)
    testing/test_frame_mask/SS_VVVV.npy   per-frame 0/1 labels
    testing/test_pixel_mask/SS_VVVV.npy   (T, H, W) uint8 masks

Frames show the textured background and slow square of ``tests.helpers.moving_square``; in the
anomalous frames of a test video a second, bright square moves fast, and its pixels are the mask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

from tests.helpers import moving_square, write_frames, write_video

SIZE = (48, 64)
#: training videos -> frames (scenes 1 and 2)
TRAIN = {"01_001": 16, "01_002": 16, "02_001": 16}
#: test videos -> frames
TEST = {"01_0014": 12, "01_0015": 12, "02_0128": 12}
#: test videos -> positions of their anomalous frames (after the first 4, which models that
#: predict from a history of frames do not score)
ANOMALIES = {"01_0014": range(5, 10), "01_0015": range(0), "02_0128": range(6, 11)}
SQUARE = 10


def anomaly_box(position: int, size: tuple[int, int] = SIZE) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the anomalous square in the frame at ``position``."""
    h, w = size
    left = (4 + position * 6) % (w - SQUARE)
    top = h - SQUARE - 4
    return top, left, top + SQUARE, left + SQUARE


def anomalous_video(
    n_frames: int, anomalous: Sequence[int], seed: int, size: tuple[int, int] = SIZE
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Frames, per-frame labels and (T, H, W) pixel masks of a test video."""
    frames, labels = [], np.zeros(n_frames, dtype=np.uint8)
    masks = np.zeros((n_frames, *size), dtype=np.uint8)
    for i in range(n_frames):
        frame = moving_square(i, size, seed=seed)
        if i in anomalous:
            top, left, bottom, right = anomaly_box(i, size)
            frame[top:bottom, left:right] = 255
            masks[i, top:bottom, left:right] = 1
            labels[i] = 1
        frames.append(frame)
    return frames, labels, masks


def make_shanghaitech_tree(
    root: Path,
    train_as: str = "videos",
    train: Mapping[str, int] = TRAIN,
    test: Mapping[str, int] = TEST,
    anomalies: Mapping[str, Sequence[int]] = ANOMALIES,
    size: tuple[int, int] = SIZE,
) -> Path:
    """Write the tree under ``root`` (training footage as ``videos`` or ``frames``)."""
    if train_as not in ("videos", "frames"):
        raise ValueError(f"train_as must be 'videos' or 'frames', got {train_as!r}")
    for seed, (video, n) in enumerate(train.items()):
        if train_as == "videos":
            write_video(root / "training" / "videos" / f"{video}.avi", n, size)
        else:
            write_frames(root / "training" / "frames" / video, range(n), size=size, seed=seed)
    frame_masks = root / "testing" / "test_frame_mask"
    pixel_masks = root / "testing" / "test_pixel_mask"
    frame_masks.mkdir(parents=True, exist_ok=True)
    pixel_masks.mkdir(parents=True, exist_ok=True)
    for seed, (video, n) in enumerate(test.items()):
        frames, labels, masks = anomalous_video(n, anomalies.get(video, ()), seed, size)
        folder = root / "testing" / "frames" / video
        folder.mkdir(parents=True, exist_ok=True)
        for i, frame in enumerate(frames):
            cv2.imwrite(str(folder / f"{i:03d}.jpg"), frame)
        np.save(frame_masks / f"{video}.npy", labels)
        np.save(pixel_masks / f"{video}.npy", masks)
    return root
