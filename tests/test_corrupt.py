"""The corruption generator: manifest vs files, corruptions, labels, determinism, command line."""

from __future__ import annotations

import itertools
from dataclasses import fields
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from tests.helpers import make_frames_dataset
from vad.cli.corrupt import SETTING_HELP, build_layout, main, parse_args
from vad.data.corrupt import CorruptionSettings, corrupt_dataset, plan_video
from vad.data.layouts import FramesLayout, PixelplayLayout
from vad.errors import DataError

HEAVY = CorruptionSettings(
    flip_rate=0.3,
    noise_every=8,
    noise_sigma=(30, 40),
    blur_every=9,
    blur_sigma=(2, 3),
    drop_rate=0.15,
    trim_rate=0.9,
    trim_max=4,
)
TEST_FRAMES = {"01": 40, "02": 30}
RANGES = [[(5, 20)], [(1, 12), (25, 30)]]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corrupt") / "src"
    return make_frames_dataset(root, {"01": 12, "02": 10}, TEST_FRAMES, RANGES)


def read_grey(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE).astype(np.float64)


def test_manifest_matches_files(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    manifest = corrupt_dataset(FramesLayout(source), out, HEAVY, seed=3, ext="png")
    stored = pd.read_csv(out / "manifest.csv", dtype={"video": str}).fillna({"file": ""})
    pd.testing.assert_frame_equal(stored, manifest, check_dtype=False)
    for (split, video), plan in manifest.groupby(["split", "video"]):
        folder = out / ("training_videos" if split == "train" else "testing_videos") / video
        kept = plan[plan["status"] == "kept"]
        expected = [f"frame_{i:05d}.png" for i in kept["frame"]]
        assert sorted(p.name for p in folder.iterdir()) == expected
        assert (plan["file"] != "").tolist() == (plan["status"] == "kept").tolist()
        src = source / ("training" if split == "train" else "testing") / "frames" / video
        for row in kept.itertuples():
            check_frame(read_grey(src / f"{row.frame:03d}.jpg"), read_grey(out / row.file), row)
        check_plan(plan, split)
    test = manifest[manifest["split"] == "test"]
    assert test["flipped"].sum() > 0 and (test["status"] == "dropped").sum() > 0
    assert (test["noise_sigma"] > 0).sum() > 0 and (test["blur_sigma"] > 0).sum() > 0


def check_frame(clean: np.ndarray, written: np.ndarray, row) -> None:
    """What the manifest says was done is what the file shows."""
    if row.flipped:
        clean = clean[::-1]
    if row.blur_sigma:
        clean = cv2.GaussianBlur(clean.astype(np.uint8), (0, 0), row.blur_sigma).astype(float)
    if row.noise_sigma:
        residual = written - clean
        assert abs(residual.std() - row.noise_sigma) < 0.2 * row.noise_sigma
    else:
        assert np.abs(written - clean).max() <= 1  # png: exact up to rounding


def check_plan(plan: pd.DataFrame, split: str) -> None:
    status = plan["status"].tolist()
    if split == "train":  # training footage is copied unchanged by default
        assert (
            set(status) == {"kept"}
            and plan[["flipped", "noise_sigma", "blur_sigma"]].eq(0).all().all()
        )
        return
    trimmed = [s == "trimmed" for s in status]
    assert trimmed == sorted(trimmed, reverse=True)  # a prefix
    for a, b in itertools.pairwise(status):
        assert not (a == "dropped" and b == "dropped")
    flips = plan.loc[plan["status"] == "kept", "flipped"].to_numpy()
    assert not np.any(flips[1:] & flips[:-1])  # single flips
    assert plan.loc[plan["status"] != "kept", ["flipped", "noise_sigma"]].eq(0).all().all()
    sigmas = plan.loc[plan["noise_sigma"] > 0, "noise_sigma"]
    assert sigmas.between(30, 40).all()


def test_labels_follow_the_kept_frames(source: Path, tmp_path: Path) -> None:
    manifest = corrupt_dataset(FramesLayout(source), tmp_path / "pp", HEAVY, seed=1)
    table = PixelplayLayout(tmp_path / "pp", labels="labels.csv").videos()
    original = FramesLayout(source).videos().set_index(["split", "video"])
    for row in table.itertuples():
        kept = manifest[
            (manifest["split"] == row.split)
            & (manifest["video"] == row.video)
            & (manifest["status"] == "kept")
        ]
        assert row.frame_ids.tolist() == kept["frame"].tolist()
        if row.split == "test":
            full = original.loc[(row.split, row.video)]
            expected = full["labels"][np.isin(full["frame_ids"], row.frame_ids)]
            assert row.labels.tolist() == expected.tolist()
    frames = corrupt_dataset(FramesLayout(source), tmp_path / "fr", HEAVY, seed=1, fmt="frames")
    assert frames.equals(manifest.assign(file=frames["file"]))  # exact: one seed, one plan
    layout_table = FramesLayout(tmp_path / "fr").videos()  # labels from fr.npy
    assert [t.tolist() for t in layout_table["frame_ids"]] == [
        t.tolist() for t in table["frame_ids"]
    ]
    test = layout_table[layout_table["split"] == "test"]
    assert [x.tolist() for x in test["labels"]] == [
        x.tolist() for x in table.loc[table["split"] == "test", "labels"]
    ]


def test_deterministic_by_seed(source: Path, tmp_path: Path) -> None:
    a = corrupt_dataset(FramesLayout(source), tmp_path / "a", HEAVY, seed=7)
    b = corrupt_dataset(FramesLayout(source), tmp_path / "b", HEAVY, seed=7)
    c = corrupt_dataset(FramesLayout(source), tmp_path / "c", HEAVY, seed=8)
    assert a.equals(b) and not a.equals(c)  # exact: the same seeded draws by the same code
    for file in a.loc[a["file"] != "", "file"]:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_untouched_frames_are_copied_byte_for_byte(source: Path, tmp_path: Path) -> None:
    manifest = corrupt_dataset(FramesLayout(source), tmp_path / "copy", HEAVY, seed=0)
    clean = manifest[
        (manifest["status"] == "kept")
        & (manifest["flipped"] == 0)
        & (manifest["noise_sigma"] == 0)
        & (manifest["blur_sigma"] == 0)
    ]
    for row in clean.itertuples():
        split = "training" if row.split == "train" else "testing"
        src = source / split / "frames" / row.video / f"{row.frame:03d}.jpg"
        assert (tmp_path / "copy" / row.file).read_bytes() == src.read_bytes()


def test_plan_rates() -> None:
    settings = CorruptionSettings(trim_rate=0.0)
    plan = plan_video(np.arange(20000), settings, np.random.default_rng(0))
    kept = plan.kept()
    assert 0.08 < plan.flipped[kept].mean() < 0.10  # 10% drawn, neighbours of a flip skipped
    assert 0.015 < (plan.status == "dropped").mean() < 0.02
    noisy = plan.noise_sigma > 0
    bursts = np.count_nonzero(np.diff(noisy.astype(int)) == 1)
    assert 20000 / 150 * 0.8 < bursts < 20000 / 150 * 1.2


def test_command_line(source: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "cli"
    main(
        [
            str(source),
            str(out),
            "--layout",
            "frames",
            "--seed",
            "2",
            "--flip-rate",
            "0.2",
            "--splits",
            "train",
            "test",
            "--noise-sigma",
            "10",
            "12",
            "--format",
            "frames",
        ]
    )
    manifest = pd.read_csv(out / "manifest.csv", dtype={"video": str})
    train = manifest[manifest["split"] == "train"]
    assert train["flipped"].sum() > 0  # training videos corrupted too
    assert manifest.loc[manifest["noise_sigma"] > 0, "noise_sigma"].between(10, 12).all()
    assert (out / "training" / "frames" / "01").is_dir() and (out / "cli.npy").is_file()
    assert "test: frames 70" in capsys.readouterr().out
    with pytest.raises(DataError, match="not empty"):
        main([str(source), str(out)])
    main([str(source), str(out), "--overwrite", "--flip-rate", "0"])
    assert pd.read_csv(out / "manifest.csv")["flipped"].sum() == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"flip_rate": 1.5}, "flip_rate"),
        ({"noise_every": 0}, "noise_every"),
        ({"blur_sigma": (3, 1)}, "blur_sigma"),
        ({"splits": ("val",)}, "splits"),
    ],
)
def test_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        CorruptionSettings(**kwargs)


def test_bad_layout_and_format(source: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown layout"):
        build_layout("nope", source)
    with pytest.raises(DataError, match="format"):
        corrupt_dataset(FramesLayout(source), tmp_path / "y", fmt="avi")
    with pytest.raises(DataError, match="key=value"):
        main([str(source), str(tmp_path / "z"), "--layout-option", "gt"])


def test_every_option_of_vad_corrupt_is_described_with_its_default(capsys) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    text = capsys.readouterr().out.split("options:", 1)[1]
    for f in fields(CorruptionSettings):
        flag = "--" + f.name.replace("_", "-")
        block = text[text.index(flag + " ") :].split("\n  --", 1)[0]
        assert SETTING_HELP[f.name].split()[0] in block and "(default:" in block, flag
