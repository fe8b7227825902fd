"""Repair stages: flip detector/corrector, noise and blur repair, gap interpolation, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from tests.helpers import moving_square, write_frames
from vad.data.cache import FrameCache
from vad.data.corrupt import corrupt_image
from vad.data.layouts import SyntheticLayout
from vad.data.stages import Frame
from vad.errors import CheckpointError, DataError
from vad.preprocessing import flip as flip_module
from vad.preprocessing.denoise import Denoiser
from vad.preprocessing.flip import FlipCorrector, _Scored, temporal_evidence
from vad.preprocessing.interpolate import GapInterpolator, interpolate
from vad.preprocessing.trained import load_weights, weights_path
from vad.tasks.train import train

FLIP = {"size": 32, "width": 4, "steps": 80, "batch_size": 32, "frames_per_video": 24}
SIZE = (96, 128)


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """A tiny synthetic dataset (fixed camera): 4 training and 2 test videos of 24 frames."""
    root = tmp_path_factory.mktemp("scene")
    layout = SyntheticLayout(root, n_train=4, n_test=2, n_frames=24, width=64, height=48)
    return layout.videos()


@pytest.fixture(scope="module")
def fitted(scene: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> FlipCorrector:
    stage = FlipCorrector(**FLIP)
    stage.fit(scene[scene["split"] == "train"], tmp_path_factory.mktemp("cache"), 1)
    return stage


def stream(table: pd.DataFrame, video: int, flip_every: int = 0) -> Iterator[Frame]:
    from vad.data.sources import open_source

    for i, image in open_source(table.iloc[video]["source"]).iter_frames(1):
        turned = flip_every and i % flip_every == 1
        yield Frame(i, np.ascontiguousarray(image[::-1]) if turned else image)


# --- flip ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_flip_detector_learns(fitted: FlipCorrector) -> None:
    metrics = fitted.metrics
    assert metrics["heldout_videos"] == 1 and metrics["heldout_frames"] == 24
    assert metrics["heldout_accuracy"] >= 0.95, metrics
    assert fitted.weights_file is not None and fitted.weights_file.is_file()


@pytest.mark.parametrize("temporal", [False, True])
def test_flip_stage_turns_frames_back(
    scene: pd.DataFrame, fitted: FlipCorrector, temporal: bool
) -> None:
    fitted.temporal = temporal
    test = scene[scene["split"] == "test"]
    clean = {f.id: f.image for f in stream(test, 0)}
    out = list(fitted(stream(test, 0, flip_every=3), "01"))
    assert [f.id for f in out] == sorted(clean)
    assert [f.info["flipped"] for f in out] == [int(f.id % 3 == 1) for f in out]
    for frame in out:
        assert np.array_equal(frame.image, clean[frame.id])


def test_flip_weights_are_stored_and_reused(
    scene: pd.DataFrame, fitted: FlipCorrector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = fitted.weights_file.parents[1]
    train = scene[scene["split"] == "train"]

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(flip_module, "fit_flip_net", no_training)
    again = FlipCorrector(**FLIP)
    again.fit(train, cache, 1)
    # exact: the weights and metrics are read back from the stored file, not retrained
    assert again.cache_key() == fitted.cache_key() and again.metrics == fitted.metrics
    other = FlipCorrector(**{**FLIP, "seed": 1})
    with pytest.raises(AssertionError, match="trained again"):
        other.fit(train, cache, 1)  # other settings: other weights file
    from_file = FlipCorrector(checkpoint=str(fitted.weights_file))
    from_file.fit(train.iloc[:0], tmp_path, 1)  # a checkpoint needs no training videos
    assert from_file.cache_key()["weights"] == fitted.cache_key()["weights"]
    assert from_file.settings["size"] == FLIP["size"]


def test_damaged_stored_weights_are_retrained(scene: pd.DataFrame, tmp_path: Path) -> None:
    train = scene[scene["split"] == "train"]
    settings = {**FLIP, "steps": 5}
    first = FlipCorrector(**settings)
    first.fit(train, tmp_path, 1)
    first.weights_file.write_bytes(b"truncated")
    again = FlipCorrector(**settings)
    again.fit(train, tmp_path, 1)
    assert again.weights_file == first.weights_file
    assert load_weights(again.weights_file, "flip")["metrics"] == again.metrics  # exact: stored
    # exact: the same seeded training, run twice in this process on this CPU, repeats bitwise
    # (the weights hash is only expected to repeat on one machine)
    assert again.cache_key() == first.cache_key()


def test_flip_cache_key_tracks_settings(fitted: FlipCorrector) -> None:
    key = fitted.cache_key()
    fitted.temporal_weight += 1
    assert fitted.cache_key() != key
    fitted.temporal_weight -= 1
    assert fitted.cache_key() == key and len(key["weights"]) == 16


def test_flip_errors(tmp_path: Path, scene: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="training videos"):
        FlipCorrector(**FLIP).fit(scene.iloc[:0], tmp_path, 1)
    with pytest.raises(RuntimeError, match="fit"):
        FlipCorrector().cache_key()
    with pytest.raises(CheckpointError, match="not found"):
        FlipCorrector(checkpoint=str(tmp_path / "none.pt")).cache_key()
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=r"bad\.pt"):
        FlipCorrector(checkpoint=str(tmp_path / "bad.pt")).fit(scene.iloc[:0], tmp_path, 1)
    with pytest.raises(DataError, match="multiple of 16"):
        flip_module.FlipNet(size=40)


def test_temporal_evidence_prefers_matching_orientation() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(16, 16)).astype(np.float32)
    upright = _Scored(Frame(0, base), -1.0, base, flipped=False)
    nxt = _Scored(Frame(2, base), 3.0, base[::-1])  # undecided; its logit says upside down
    turned = _Scored(Frame(1, base), 0.0, base[::-1])
    assert temporal_evidence(turned, [upright, nxt]) > 1
    same = _Scored(Frame(1, base), 0.0, base + 0.01)
    assert temporal_evidence(same, [upright, nxt]) < -1
    far = _Scored(Frame(9, base), 0.0, base[::-1])
    # exact: no neighbour within 2 ids, the constant 0.0
    assert temporal_evidence(far, [upright]) == 0.0


def test_cached_entry_keyed_by_detector(
    scene: pd.DataFrame, fitted: FlipCorrector, tmp_path: Path
) -> None:
    cache = FrameCache(tmp_path / "frames", (24, 32), 1, [fitted], workers=1)
    train = scene[scene["split"] == "train"]
    cache.fit_stages(train)  # loads the stored detector
    test_row = scene[scene["split"] == "test"].iloc[0]
    video = cache.load(test_row)
    assert video.info.columns.tolist() == ["flipped"] and video.info["flipped"].sum() == 0
    assert cache.key(train.iloc[0]) == FrameCache(tmp_path / "frames", (24, 32), 1).key(
        train.iloc[0]
    )  # the stage runs on test videos only
    other = FlipCorrector(**{**FLIP, "temporal": not fitted.temporal})
    other.net = fitted.net
    assert FrameCache(tmp_path / "frames", (24, 32), 1, [other]).key(test_row) != cache.key(
        test_row
    )


# --- noise and blur --------------------------------------------------------------------------


def square_video(n: int = 30, channels: int = 1) -> list[np.ndarray]:
    frames = [moving_square(i, SIZE, speed=3) for i in range(n)]
    return frames if channels == 1 else [cv2.cvtColor(f, cv2.COLOR_GRAY2RGB) for f in frames]


@pytest.mark.parametrize(
    ("channels", "method", "deblur", "blur_gain"),
    [(1, "temporal", "temporal", 0.1), (3, "temporal", "temporal", 0.1), (1, "nlm", "rl", 0.7)],
)
def test_denoise_repairs_noisy_and_blurred_frames(
    channels: int, method: str, deblur: str, blur_gain: float
) -> None:
    clean = square_video(channels=channels)
    rng = np.random.default_rng(0)
    noisy_ids, blurred_ids = {10, 11, 12}, {20, 21}
    damaged = [
        corrupt_image(im, False, 35.0 * (i in noisy_ids), 2.5 * (i in blurred_ids), rng)
        for i, im in enumerate(clean)
    ]
    stage = Denoiser(method=method, deblur=deblur, window=8)
    out = list(stage((Frame(i, im.copy()) for i, im in enumerate(damaged)), "v"))
    assert [f.id for f in out] == list(range(len(clean)))
    assert {f.id for f in out if f.info["denoised"]} == noisy_ids
    assert {f.id for f in out if f.info["deblurred"]} == blurred_ids
    error = lambda a, b: float(np.mean((a.astype(float) - b.astype(float)) ** 2))  # noqa: E731
    for f in out:
        if f.id in noisy_ids | blurred_ids:
            before, after = error(damaged[f.id], clean[f.id]), error(f.image, clean[f.id])
            gain = 0.1 if f.id in noisy_ids else blur_gain
            assert after < gain * before, (f.id, before, after)
        else:
            assert np.array_equal(f.image, damaged[f.id])  # untouched
        assert f.image.shape == clean[0].shape and f.image.dtype == np.uint8


@pytest.mark.slow
def test_learned_denoiser(scene: pd.DataFrame, tmp_path: Path) -> None:
    learned = {"width": 8, "depth": 4, "steps": 300, "patch": 24, "frames_per_video": 6}
    stage = Denoiser(method="learned", learned=learned, window=8)
    train = scene[scene["split"] == "train"]
    stage.fit(train, tmp_path, 1)
    stored = weights_path(tmp_path, "denoise", stage.learned._trained_on)
    assert stored.is_file()
    metrics = stage.learned.metrics
    assert metrics["psnr_denoised"] > metrics["psnr_noisy"] + 3, metrics
    clean = square_video()
    rng = np.random.default_rng(1)
    noisy = [corrupt_image(im, False, 35.0 * (i == 5), 0, rng) for i, im in enumerate(clean)]
    out = list(stage((Frame(i, im) for i, im in enumerate(noisy)), "v"))
    assert [f.info["denoised"] for f in out] == [int(i == 5) for i in range(len(clean))]
    mse = lambda a: float(np.mean((a.astype(float) - clean[5]) ** 2))  # noqa: E731
    assert mse(out[5].image) < 0.5 * mse(noisy[5])
    from_file = Denoiser(method="learned", learned={"checkpoint": str(stored)})
    from_file.fit(train.iloc[:0], tmp_path / "elsewhere", 1)
    assert from_file.cache_key()["weights"] == stage.cache_key()["weights"]
    assert "weights" not in Denoiser().cache_key()


def test_denoise_bad_settings() -> None:
    with pytest.raises(DataError, match="method"):
        Denoiser(method="wavelet")
    with pytest.raises(DataError, match="deblur"):
        Denoiser(deblur="wiener")
    with pytest.raises(DataError, match="odd"):
        Denoiser(nlm_frames=4)
    with pytest.raises(DataError, match="thresholds"):
        Denoiser(noise_ratio=0.5)


# --- dropped frames --------------------------------------------------------------------------


def test_single_gaps_are_interpolated() -> None:
    ids = [0, 1, 2, 4, 5, 8, 9, 11]
    frames = (Frame(i, moving_square(i, SIZE, speed=3)) for i in ids)
    out = list(GapInterpolator()(frames, "v"))
    assert [f.id for f in out] == [0, 1, 2, 3, 4, 5, 8, 9, 10, 11]  # the 3-frame gap stays
    assert [f.info["interpolated"] for f in out] == [0, 0, 0, 1, 0, 0, 0, 0, 1, 0]
    assert [f.info["gap_filled"] for f in out] == [0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    truth = moving_square(3, SIZE, speed=3).astype(float)
    err = lambda im: float(np.abs(im.astype(float) - truth).mean())  # noqa: E731
    before, after = moving_square(2, SIZE, speed=3), moving_square(4, SIZE, speed=3)
    blend, flow = interpolate(before, after, "blend"), interpolate(before, after, "flow")
    assert np.array_equal(blend, ((before.astype(int) + after + 1) // 2).astype(np.uint8))
    assert err(flow) < err(blend) and err(flow) < err(before)
    with pytest.raises(DataError, match="method"):
        GapInterpolator(method="copy")


@pytest.mark.slow
@pytest.mark.parametrize("interpolate", [True, False])
def test_gap_frames_scored_from_full_windows(make_cfg, tmp_path: Path, interpolate: bool) -> None:
    """With preprocess=clean, frames after a single dropped frame are scored, not filled (without
    interpolation they are filled); the interpolated frame is never scored; the stages' notes
    become score columns."""
    root = tmp_path / "pixelplay"
    ids = {"01": [*range(2, 12), *range(13, 24)], "02": list(range(0, 16))}
    for video in ("01", "02", "03"):
        write_frames(root / "training_videos" / video, range(20), "frame_{:05d}.jpg", seed=1)
    for video, frame_ids in ids.items():
        write_frames(root / "testing_videos" / video, frame_ids, "frame_{:05d}.jpg", seed=1)
    flip = [f"preprocess.flip.{k}={v}" for k, v in FLIP.items()]
    cfg = make_cfg(
        "train",
        [
            "data=pixelplay",
            f"data.root={root}",
            "data.channels=1",
            "data.image_size=[32,32]",
            "data.val_videos=1",
            "preprocess=clean",
            *flip,
            *([] if interpolate else ["~preprocess.interpolate"]),
        ],
    )
    train(cfg)
    scores = pd.read_csv(Path(cfg.paths.output_dir) / "scores.csv", dtype={"video": str})
    assert scores.groupby("video")["frame"].apply(list).to_dict() == ids  # no frame 12
    first = scores[scores["video"] == "01"].set_index("frame")
    # 4 warm-up frames per run of consecutive ids: one run through the gap, or two runs
    assert first["filled"].sum() == (4 if interpolate else 8)
    assert first.loc[13:16, "filled"].tolist() == [int(not interpolate)] * 4
    notes = ["flipped", "denoised", "deblurred"]
    if interpolate:
        assert first.loc[13, "gap_filled"] == 1 and first["gap_filled"].sum() == 1
        notes += ["interpolated", "gap_filled"]
    else:
        assert "gap_filled" not in scores.columns
    for column in notes:
        assert scores[column].notna().all() and set(scores[column]) <= {0, 1}


@pytest.mark.parametrize("length", [1, 2])
def test_stages_handle_tiny_videos(fitted: FlipCorrector, length: int) -> None:
    for stage in (fitted, Denoiser(), GapInterpolator()):
        frames = [Frame(i, moving_square(i, SIZE)) for i in range(length)]
        out = list(stage(iter(frames), "v"))
        assert [f.id for f in out] == list(range(length))
        assert all(set(f.info.values()) <= {0, 1} and f.info for f in out)
