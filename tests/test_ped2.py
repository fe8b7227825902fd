"""Smoke tests on the real UCSD Ped2 data (skipped when ../shared/data/ped2 is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import open_dict

from tests.helpers import write_gt_mat
from vad.data.labels import read_mat_ranges, read_ucsd_m
from vad.data.layouts import FramesLayout
from vad.tasks.predict import predict
from vad.tasks.train import train

OFFICIAL = [
    (61, 180),
    (95, 180),
    (1, 146),
    (31, 180),
    (1, 129),
    (1, 159),
    (46, 180),
    (1, 180),
    (1, 120),
    (1, 150),
    (1, 180),
    (88, 180),
]


def test_ped2_ground_truth_files_agree(ped2_root: Path) -> None:
    mat = read_mat_ranges(ped2_root / "ped2.mat")
    official = read_ucsd_m(ped2_root / "UCSDped2.m")
    assert mat == official == [[r] for r in OFFICIAL]


def test_ped2_layout_reads_every_video(ped2_root: Path) -> None:
    table = FramesLayout(ped2_root).videos()
    train, test = table[table["split"] == "train"], table[table["split"] == "test"]
    assert len(train) == 16 and sum(map(len, train["frame_ids"])) == 2550
    assert len(test) == 12 and sum(map(len, test["frame_ids"])) == 2010
    assert sum(int(labels.sum()) for labels in test["labels"]) == 1648
    first = test.iloc[0]
    assert first["frame_ids"][0] == 0 and first["labels"][59] == 0 and first["labels"][60] == 1


def _subset(ped2_root: Path, root: Path, train: list[str], test: list[str]) -> Path:
    """A ped2-layout folder linking a few real videos, with their official ranges."""
    for split, videos in (("training", train), ("testing", test)):
        (root / split / "frames").mkdir(parents=True)
        for video in videos:
            (root / split / "frames" / video).symlink_to(ped2_root / split / "frames" / video)
    write_gt_mat(root / f"{root.name}.mat", [[OFFICIAL[int(v) - 1]] for v in test])
    return root


@pytest.mark.slow
def test_ped2_train_and_predict_smoke(make_cfg, ped2_root: Path, tmp_path: Path) -> None:
    root = _subset(ped2_root, tmp_path / "ped2", ["01", "02", "03"], ["01", "04"])
    cfg = make_cfg(
        "train",
        [
            "data=ped2",
            f"data.root={root}",
            "data.image_size=[32,48]",
            "data.val_videos=1",
            "test=false",
        ],
    )
    train(cfg)
    pcfg = make_cfg("predict", [f"ckpt_path={cfg.paths.output_dir}"])
    with open_dict(pcfg):
        pcfg.paths.output_dir = str(tmp_path / "predict")
    predict(pcfg)
    scores = pd.read_csv(tmp_path / "predict" / "scores.csv", dtype={"video": str})
    assert scores.groupby("video").size().to_dict() == {"01": 180, "04": 180}
    video_01 = scores[scores["video"] == "01"]
    assert video_01["frame"].tolist() == list(range(180))
    assert video_01["label"].tolist() == [0] * 60 + [1] * 120
    assert np.isfinite(scores["psnr"]).all()
