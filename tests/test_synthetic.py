"""The built-in synthetic dataset: layout, labels, events, determinism and visible anomalies."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from omegaconf import OmegaConf

from vad.data import synthetic
from vad.errors import DataError

CONF = Path(__file__).resolve().parents[1] / "conf"

TINY = {"seed": 0, "n_train": 2, "n_test": 4, "n_frames": 40, "width": 64, "height": 48}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic.generate(tmp_path_factory.mktemp("synthetic") / "data", **TINY)


def read_video(folder: Path) -> np.ndarray:
    files = sorted(folder.glob("*.jpg"))
    return np.stack([cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files])


def read_all(root: Path) -> dict[str, np.ndarray]:
    return {str(d.relative_to(root)): read_video(d) for d in sorted(root.glob("*/frames/*"))}


def manifest(root: Path) -> dict:
    return json.loads((root / "manifest.json").read_text())


def test_layout_and_counts(tiny: Path) -> None:
    for split, count in (("training", 2), ("testing", 4)):
        videos = sorted(p.name for p in (tiny / split / "frames").iterdir())
        assert videos == [f"{i:02d}" for i in range(1, count + 1)]
        for video in videos:
            names = sorted(p.name for p in (tiny / split / "frames" / video).iterdir())
            assert names == [f"{t:03d}.jpg" for t in range(40)]
    frame = cv2.imread(str(tiny / "testing" / "frames" / "01" / "000.jpg"), cv2.IMREAD_UNCHANGED)
    assert frame.shape[:2] == (48, 64) and frame.dtype == np.uint8
    assert manifest(tiny)["params"] == TINY


def test_labels_match_events(tiny: Path) -> None:
    labels = np.load(tiny / "synthetic.npy")
    assert labels.dtype == np.uint8 and labels.shape == (4 * 40,)
    assert set(np.unique(labels)) == {0, 1}
    per_video = labels.reshape(4, 40)
    events = manifest(tiny)["events"]
    assert sorted(events) == ["01", "02", "03", "04"]
    for i, video in enumerate(sorted(events)):
        covered = np.zeros(40, dtype=bool)
        for event in events[video]:
            first, last = event["first_frame"], event["last_frame"]
            assert per_video[i, first] == 1 and per_video[i, last] == 1
            covered[first : last + 1] = True
        assert not (per_video[i].astype(bool) & ~covered).any()
        assert 0 < per_video[i].sum() < 40  # every video has normal and anomalous frames


def test_all_event_types_present(tiny: Path) -> None:
    types = {e["type"] for events in manifest(tiny)["events"].values() for e in events}
    assert types == set(synthetic.EVENT_TYPES)
    crowds = [
        e for events in manifest(tiny)["events"].values() for e in events if e["type"] == "crowd"
    ]
    assert all(5 <= len(e["objects"]) <= 8 and e["first_frame"] == 0 for e in crowds)


@pytest.mark.parametrize("seed", range(5))
def test_default_schedule_share(seed: int) -> None:
    """At default size the anomalous share of test frames is Ped2-like and every video is mixed."""
    scene = synthetic.make_scene(np.random.default_rng([seed, 0]), 160, 120)
    plan = synthetic.plan_test_events(np.random.default_rng([seed, 2]), scene, 6, 120)
    labels = [synthetic.video_labels(events, scene, 120) for events in plan]
    assert 0.4 <= np.concatenate(labels).mean() <= 0.6
    assert all(0 < lab.sum() < 120 for lab in labels)
    assert {e.type for events in plan for e in events} == set(synthetic.EVENT_TYPES)


def test_deterministic_by_seed(tiny: Path, tmp_path: Path) -> None:
    again = synthetic.generate(tmp_path / "again", **TINY)
    first, second = read_all(tiny), read_all(again)
    assert first.keys() == second.keys()
    assert all(np.array_equal(first[k], second[k]) for k in first)
    assert np.array_equal(np.load(tiny / "synthetic.npy"), np.load(again / "synthetic.npy"))
    assert manifest(tiny) == manifest(again)  # exact: the same seeded draws by the same code
    other = read_all(synthetic.generate(tmp_path / "other", **{**TINY, "seed": 1}))
    assert not any(np.array_equal(first[k], other[k]) for k in first)


def test_is_complete(tiny: Path, tmp_path: Path) -> None:
    assert synthetic.is_complete(tiny, TINY)
    assert not synthetic.is_complete(tiny, {**TINY, "seed": 1})
    assert not synthetic.is_complete(tiny, {**TINY, "extra": 1})
    assert not synthetic.is_complete(tmp_path / "missing", TINY)
    defaults = synthetic.generate(
        tmp_path / "defaults", n_train=1, n_test=1, n_frames=8, width=32, height=24
    )
    assert synthetic.is_complete(
        defaults, {"n_train": 1, "n_test": 1, "n_frames": 8, "width": 32, "height": 24}
    )
    (defaults / "manifest.json").write_text("{not json")
    assert not synthetic.is_complete(
        defaults, {"n_train": 1, "n_test": 1, "n_frames": 8, "width": 32, "height": 24}
    )


def test_regeneration_replaces_previous_dataset(tmp_path: Path) -> None:
    root = synthetic.generate(tmp_path / "data", **TINY)
    synthetic.generate(root, **{**TINY, "n_test": 2, "n_frames": 10})
    assert sorted(p.name for p in (root / "testing" / "frames").iterdir()) == ["01", "02"]
    assert len(list((root / "testing" / "frames" / "01").iterdir())) == 10
    assert np.load(root / "synthetic.npy").shape == (20,)
    assert not list(root.glob("*.tmp"))


def test_refuses_foreign_folder_and_bad_params(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(DataError, match="not empty"):
        synthetic.generate(tmp_path, **TINY)
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    with pytest.raises(DataError, match="n_test"):
        synthetic.generate(tmp_path / "bad", **{**TINY, "n_test": 0})


def _moving_pixels(frames: np.ndarray) -> np.ndarray:
    """Per frame transition, the number of pixels whose smoothed value changed by more than 12."""
    smooth = np.stack([cv2.GaussianBlur(f.astype(np.float32), (3, 3), 0) for f in frames])
    return (np.abs(np.diff(smooth, axis=0)) > 12).sum(axis=(1, 2))


def test_fast_movers_cause_more_motion_than_normal_activity(tiny: Path) -> None:
    labels = np.load(tiny / "synthetic.npy").reshape(4, 40)
    fast, normal = [], []
    for i, (video, events) in enumerate(sorted(manifest(tiny)["events"].items())):
        moving = _moving_pixels(read_video(tiny / "testing" / "frames" / video))
        normal.append(moving[(labels[i, :-1] == 0) & (labels[i, 1:] == 0)])
        for event in (e for e in events if e["type"] == "fast_mover"):
            moving_pairs = moving[event["first_frame"] : event["last_frame"]]
            fast.append(moving_pairs[labels[i, event["first_frame"] : event["last_frame"]] == 1])
    fast, normal = np.concatenate(fast), np.concatenate(normal)
    assert fast.size and normal.size
    assert np.median(fast) > 2 * np.median(normal)


def test_normal_frames_leave_the_near_lawn_untouched(tiny: Path) -> None:
    """Nothing normal walks on the lawn below the walkway; lawn-crossers and runners do."""
    training = [read_video(d) for d in sorted((tiny / "training" / "frames").iterdir())]
    background = cv2.blur(np.median(np.concatenate(training), axis=0).astype(np.float32), (3, 3))
    lawn = slice(int(np.ceil(manifest(tiny)["scene"]["walkway"][1])) + 2, None)
    labels = np.load(tiny / "synthetic.npy").reshape(4, 40)
    changed = []
    for video in sorted(manifest(tiny)["events"]):
        frames = read_video(tiny / "testing" / "frames" / video).astype(np.float32)
        diff = np.abs(np.stack([cv2.blur(f, (3, 3)) for f in frames]) - background)
        changed.append(diff[:, lawn].max(axis=(1, 2)))
    changed = np.stack(changed)
    assert changed[labels == 0].max() < 20
    assert changed[labels == 1].max() > 40


def test_config_lists_the_generator_defaults() -> None:
    layout = OmegaConf.to_container(OmegaConf.load(CONF / "data" / "synthetic.yaml").layout)
    params = {k: v for k, v in layout.items() if not k.startswith("_")}
    assert params == synthetic.DEFAULTS == synthetic.SyntheticParams().as_dict()
