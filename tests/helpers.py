"""Builders of tiny on-disk datasets for tests."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import scipy.io
import torch

ROOT = Path(__file__).resolve().parents[1]
PED2 = ROOT.parent / "shared" / "data" / "ped2"


def moving_square(
    frame_id: int, size: tuple[int, int] = (48, 64), speed: int = 2, seed: int = 0
) -> np.ndarray:
    """A grey frame with a textured background and a bright square moving right."""
    h, w = size
    background = np.random.default_rng(seed).integers(60, 120, size=(h, w)).astype(np.uint8)
    frame = cv2.GaussianBlur(background, (5, 5), 0)
    x = (5 + frame_id * speed) % (w - 10)
    frame[h // 3 : h // 3 + 8, x : x + 8] = 230
    return frame


def write_frames(
    folder: Path,
    ids: Iterable[int],
    pattern: str = "{:03d}.jpg",
    size: tuple[int, int] = (48, 64),
    seed: int = 0,
) -> list[Path]:
    """Write one image per frame id, named with ``pattern``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in ids:
        path = folder / pattern.format(i)
        cv2.imwrite(str(path), moving_square(i, size, seed=seed))
        files.append(path)
    return files


def write_video(path: Path, n_frames: int, size: tuple[int, int] = (48, 64)) -> Path:
    """An MJPG .avi of ``n_frames`` colour frames."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (w, h))
    assert writer.isOpened(), f"cannot write {path}"
    for i in range(n_frames):
        writer.write(cv2.cvtColor(moving_square(i, size), cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


def write_gt_mat(path: Path, ranges: list[list[tuple[int, int]]], key: str = "gt") -> Path:
    """A ``gt`` cell array of 2xK [start; end] matrices, as in ped2.mat."""
    cell = np.empty((1, len(ranges)), dtype=object)
    for i, video in enumerate(ranges):
        cell[0, i] = np.array(video, dtype=np.int64).T.reshape(2, -1)
    scipy.io.savemat(str(path), {key: cell})
    return path


def make_frames_dataset(
    root: Path,
    train: dict[str, int],
    test: dict[str, int],
    ranges: list[list[tuple[int, int]]] | None = None,
) -> Path:
    """A ``frames`` layout dataset: {video: n_frames} per split, optional ``<root>.mat`` ranges."""
    for split, videos in (("training", train), ("testing", test)):
        for seed, (video, n) in enumerate(videos.items()):
            write_frames(root / split / "frames" / video, range(n), seed=seed)
    if ranges is not None:
        write_gt_mat(root / f"{root.name}.mat", ranges)
    return root


def fit_fixed_batch(module: Any, batch: Any, steps: int) -> list[dict[str, float]]:
    """Train ``module`` on one batch for ``steps`` optimiser steps; its losses before each step
    and after the last (``steps + 1`` entries)."""
    optimizer = module.configure_optimizers()
    history = []
    for _ in range(steps):
        losses = module.losses(batch, module(batch))
        optimizer.zero_grad()
        losses["loss"].backward()
        optimizer.step()
        history.append({k: v.item() for k, v in losses.items()})
    with torch.no_grad():
        history.append({k: v.item() for k, v in module.losses(batch, module(batch)).items()})
    return history
