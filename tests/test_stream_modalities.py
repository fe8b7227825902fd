"""Streaming for models that read flow and motion boxes: the stream computes the arrays dataset
mode stores, a density model scores a stream as it scores the dataset, camera and URL sources
through OpenCV, and the stream's held rows do not grow with its length."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import cv2
import hydra
import numpy as np
import pandas as pd
import pytest
from omegaconf import open_dict

from tests.conftest import compose_config
from tests.helpers import moving_square, write_frames
from tests.test_models import tiny_overrides
from vad.data.clips import memory_video
from vad.data.flow import compute_flow
from vad.data.regions import build_boxes, region_settings
from vad.errors import DataError
from vad.inference.engine import StreamScorer
from vad.inference.row_store import RowStore
from vad.inference.stream_modalities import StreamModalities
from vad.inference.stream_sources import list_sources, live_capture
from vad.models.checkpoint import load_model
from vad.tasks.predict import predict
from vad.tasks.train import train

IDS = np.array([3, 4, 5, 6, 7, 9, 10, 11, 20, 22, 23, 24, 25])  # gaps: runs of 5, 3, 1, 4


def _streamed(modalities: StreamModalities, frames, natives=None) -> dict[str, np.ndarray]:
    """Each frame pushed, then the end of the stream; the arrays in stream order."""
    natives = natives if natives is not None else [None] * len(frames)
    pushed = zip(IDS, frames, natives, strict=True)
    ready = [r for i, f, n in pushed for r in modalities.push(int(i), f, n)]
    ready += modalities.end_run()
    assert [i for i, _ in ready] == IDS.tolist()  # every frame once, in order
    return {name: np.stack([a[name] for _, a in ready]) for name in ready[0][1]}


def test_stream_flow_and_cache_boxes_equal_dataset_mode() -> None:
    frames = np.stack([moving_square(int(i), speed=3)[..., None] for i in IDS])
    settings = region_settings({"min_area": 4, "resolution": "cache"})
    streamed = _streamed(StreamModalities(["frames", "flow", "boxes"], None, settings), frames)
    video = memory_video("v", {"frames": frames}, IDS)
    expected = build_boxes(video, settings)
    assert np.isfinite(expected).any()  # the moving square is found
    np.testing.assert_array_equal(streamed["boxes"], expected)
    np.testing.assert_array_equal(streamed["flow"], compute_flow(frames, IDS))
    np.testing.assert_array_equal(streamed["frames"], frames)


def test_stream_native_boxes_equal_dataset_mode_with_a_missing_source_frame(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "cam"
    write_frames(folder, IDS, pattern="{:03d}.png", size=(96, 128))
    natives = [cv2.imread(str(folder / f"{i:03d}.png"), cv2.IMREAD_GRAYSCALE) for i in IDS]
    small = np.stack(
        [cv2.resize(n, (64, 48), interpolation=cv2.INTER_AREA)[..., None] for n in natives]
    )
    (folder / "010.png").unlink()  # as if a stage had interpolated frame 10
    natives[6] = None
    settings = region_settings({"min_area": 4})
    modalities = StreamModalities(["frames", "boxes"], None, settings)
    assert modalities.native
    streamed = _streamed(modalities, small, natives)
    expected = build_boxes(memory_video(str(folder), {"frames": small}, IDS), settings)
    assert np.isfinite(expected).any() and np.isnan(expected[5:8]).all()
    np.testing.assert_array_equal(streamed["boxes"], expected)


def test_a_modality_the_stream_cannot_compute_is_named() -> None:
    with pytest.raises(DataError, match=r"\['masks'\]"):
        StreamModalities(["frames", "masks"])


@pytest.fixture(name="density_run", scope="module")
def density_run_fixture(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Path:
    """A tiny density model fitted on the synthetic data (boxes on the cached frames)."""
    tmp = tmp_path_factory.mktemp("density")
    overrides = [*tiny_overrides("density", shared_dir, tmp), "scoring.report.enabled=false"]
    cfg = compose_config("train", overrides, tmp, shared_dir)
    train(cfg)
    return Path(cfg.paths.output_dir)


def _stream(tmp: Path, shared: Path, run: Path, source: str | Path) -> pd.DataFrame:
    cfg = compose_config(
        "predict", [f"ckpt_path={run}", f"source={source}", "infer.annotate=false"], tmp, shared
    )
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp / "infer")
    predict(cfg)
    return pd.read_csv(tmp / "infer" / "scores.csv", dtype={"video": str})


def test_density_stream_scores_equal_dataset_mode(
    density_run: Path, tmp_path: Path, shared_dir: Path
) -> None:
    batch = pd.read_csv(density_run / "scores.csv", dtype={"video": str})
    _, meta = load_model(density_run)
    table = hydra.utils.instantiate(meta["data"]).split_table("test")
    stream = _stream(tmp_path, shared_dir, density_run, Path(table["source"].iloc[0]).parent)
    columns = [c for c in batch.columns if c not in ("label", "score", "alarm")]
    assert "density" in columns and batch["density"].nunique() > 1
    # The same boxes, flow and features. The tiny appearance bank has 9 dimensions (searched by
    # torch.cdist, not the k-d tree) and fewer than 26 rows, so cdist takes its matrix-product
    # form only when a query batch has more than 25 objects: dataset mode's batches span videos,
    # the stream's hold one video, and float32 distances differ in the 6th digit.
    pd.testing.assert_frame_equal(stream[columns], batch[columns], rtol=1e-4, atol=1e-6)
    velocity = stream["velocity"].to_numpy()  # k-d tree search: no float32 reordering
    np.testing.assert_array_equal(velocity, batch["velocity"].to_numpy())


class FakeCapture:
    """``cv2.VideoCapture`` of a camera that gives ``frames`` BGR frames, then ends."""

    frames = 7

    def __init__(self, source: object) -> None:
        self.source, self.position = source, 0

    def isOpened(self) -> bool:
        return self.source in (0, "rtsp://cam.local:554/live")

    def get(self, prop: int) -> float:
        return 12.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.position >= self.frames:
            return False, None
        self.position += 1
        return True, cv2.cvtColor(moving_square(self.position), cv2.COLOR_GRAY2BGR)

    def release(self) -> None:
        pass


def test_camera_and_url_sources_read_a_fake_capture(
    monkeypatch: pytest.MonkeyPatch, density_run: Path, tmp_path: Path, shared_dir: Path
) -> None:
    monkeypatch.setattr(cv2, "VideoCapture", FakeCapture)
    assert live_capture("0") == 0 and live_capture("./videos") is None
    (url,) = list_sources("rtsp://cam.local:554/live")
    assert url.video == "cam.local_554_live" and url.fps == 12.0
    assert [i for i, _ in url.frames(1)] == list(range(FakeCapture.frames))
    scores = _stream(tmp_path, shared_dir, density_run, 0)
    assert scores["video"].unique().tolist() == ["camera0"]
    assert scores["frame"].tolist() == list(range(FakeCapture.frames))
    assert np.isfinite(scores["density"]).all()


@pytest.mark.parametrize("source", ["3", "http://nowhere.invalid/feed"])
def test_a_capture_that_does_not_open_is_one_error(
    monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    monkeypatch.setattr(cv2, "VideoCapture", FakeCapture)
    with pytest.raises(DataError, match=f"source={source}: cannot open the"):
        list_sources(source)


def _held(scorer: StreamScorer, frames: int) -> int:
    """Entries of every container the scorer and its row store hold after ``frames`` frames
    (lists of row chunks, the window, pending clips, columns)."""
    image = np.zeros((32, 32, 1), np.uint8)
    for i in range(frames):
        scorer.push(i, image, image)
    held = [*vars(scorer).values(), *vars(scorer.rows).values()]
    return sum(len(v) for v in held if isinstance(v, list | dict | deque))


def test_streamed_rows_are_compact_columns_whatever_the_length(density_run: Path) -> None:
    model, _ = load_model(density_run)
    short, long = StreamScorer(model, "a", 4), StreamScorer(model, "a", 4)
    assert _held(short, 40) == _held(long, 400)
    # released so far: all but a batch still to score (4) and the frame waiting for its neighbour
    assert 400 - 5 <= len(long.rows) < 400
    long.finish()
    rows = long.rows.frame()
    assert rows["frame"].tolist() == list(range(400)) and rows["video"].eq("a").all()


def test_row_store_gives_back_what_was_appended() -> None:
    store = RowStore("v", capacity=2)
    chunks = [
        pd.DataFrame({"video": "v", "frame": np.arange(i, i + 3), "x": np.arange(3) * 0.5})
        for i in (0, 3, 6)
    ]
    for chunk in chunks:
        store.append(chunk)
    expected = pd.concat(chunks, ignore_index=True)
    pd.testing.assert_frame_equal(store.frame(), expected)
    with pytest.raises(DataError, match="another video"):
        store.append(chunks[0].assign(video="w"))
