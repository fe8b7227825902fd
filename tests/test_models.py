"""Every model in ``conf/model/`` gets the same checks by adding its YAML: ``model=X`` alone
composes and instantiates, a few training steps give one finite score per test frame in the
column its contract names, a checkpoint scores the same after reloading, and an injected anomaly
scores higher than the normal frames around it."""

from __future__ import annotations

import warnings
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
import pytest
from omegaconf import DictConfig, OmegaConf, open_dict

from tests.conftest import TINY, TINY_DATA, compose_config
from vad.data.cache import CachedVideo
from vad.data.clips import memory_video
from vad.data.flow import compute_flow
from vad.data.regions import region_settings, video_boxes
from vad.models.base import VADModule
from vad.models.checkpoint import load_model
from vad.scoring.frame_scores import anomaly_score
from vad.scoring.scorer import Scorer
from vad.tasks.predict import predict
from vad.tasks.train import train

CONF = Path(__file__).resolve().parents[1] / "conf"
MODELS = sorted(p.stem for p in (CONF / "model").glob("*.yaml"))
#: smaller settings applied where a model has the key (a new model's own keys need no entry)
SHRINK = {
    "base_width": 4,
    "motion_width": 2,
    "depth": 2,
    "widths": [4, 6, 8],
    "input_frames": 2,
    "scheduler.warmup_steps": 2,
    "appearance_size": 8,
}
#: the tiny synthetic frames are 64 x 48: motion boxes of a few pixels count as objects
TINY_BOXES = ["data.regions.min_area=4", "data.regions.resolution=cache"]


def tiny_overrides(model: str, shared: Path, tmp: Path) -> list[str]:
    """``model=<model>`` on the tiny data with the ``SHRINK`` keys the model has."""
    cfg = compose_config("train", [f"model={model}"], tmp, shared)
    shrink = [
        f"model.{key}={_value(value)}"
        for key, value in SHRINK.items()
        if OmegaConf.select(cfg.model, key, default=None) is not None
    ]
    common = [o for o in TINY if not o.startswith("model.")]
    boxes = TINY_BOXES if "boxes" in hydra.utils.instantiate(cfg.model).modalities else []
    return [*TINY_DATA, *common, *boxes, f"model={model}", *shrink]


def _value(value: object) -> str:
    return "[" + ",".join(map(str, value)) + "]" if isinstance(value, list) else str(value)


@pytest.mark.parametrize("model", MODELS)
def test_model_alone_composes_and_instantiates(model: str, tmp_path: Path, shared_dir: Path):
    cfg = compose_config("train", [f"model={model}"], tmp_path, shared_dir)
    module = hydra.utils.instantiate(cfg.model)
    assert isinstance(module, VADModule)
    assert module.contract.score_column
    assert set(module.contract.modalities) >= {"frames"}


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_model_trains_scores_reloads_and_finds_an_injected_anomaly(
    model: str, tmp_path: Path, shared_dir: Path
) -> None:
    overrides = [*tiny_overrides(model, shared_dir, tmp_path), "scoring.report.enabled=false"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(compose_config("train", overrides, tmp_path, shared_dir))
    # a one-pass model has no optimiser by its contract: Lightning is not asked to warn of it
    assert not [w for w in caught if "configure_optimizers" in str(w.message)]
    run = tmp_path / "run"
    trained, meta = load_model(run / "checkpoints" / "best.ckpt")
    column = trained.contract.score_column
    scores = pd.read_csv(run / "scores.csv", dtype={"video": str})
    table = hydra.utils.instantiate(meta["data"]).split_table("test")
    assert len(scores) == sum(len(ids) for ids in table["frame_ids"])  # every test frame once
    assert np.isfinite(scores[column]).all()

    # the checkpoint scores the test videos as the trained model did
    pcfg = compose_config("predict", [f"ckpt_path={run}"], tmp_path, shared_dir)
    with open_dict(pcfg):
        pcfg.paths.output_dir = str(tmp_path / "predict")
        pcfg.scoring.report = {"enabled": False}
    predict(pcfg)
    again = pd.read_csv(tmp_path / "predict" / "scores.csv", dtype={"video": str})
    # float32 networks rerun on the same inputs and machine: 1e-5 relative covers reordered sums
    pd.testing.assert_frame_equal(again[scores.columns], scores, rtol=1e-5, atol=1e-6)

    # orientation: frames of noise scored by the reloaded model rank above the normal ones
    datamodule = hydra.utils.instantiate(meta["data"])
    datamodule.configure_clips(trained.clip_length, trained.modalities)
    normal = datamodule.videos("val")[0]
    injected = with_noise_burst(normal, trained.modalities, meta["data"])
    rows = Scorer(trained).score_videos([injected])
    oriented = anomaly_score(rows, column).to_numpy()
    labels = rows["label"].to_numpy().astype(bool)
    assert oriented[labels].mean() > oriented[~labels].mean()


def with_noise_burst(
    video: CachedVideo, modalities: tuple[str, ...], data_cfg: DictConfig
) -> CachedVideo:
    """A labelled in-memory copy of ``video`` whose middle third is uniform noise (the labelled
    frames), with flow and motion boxes recomputed on the changed frames."""
    frames = np.array(video.frames)
    n = len(frames)
    labels = np.zeros(n, dtype=np.uint8)
    labels[n // 3 : 2 * n // 3] = 1
    rng = np.random.default_rng(0)
    frames[labels == 1] = rng.integers(0, 256, frames[labels == 1].shape, dtype=np.uint8)
    arrays = {"frames": frames}
    if "flow" in modalities:
        arrays["flow"] = compute_flow(frames, np.arange(n), dict(data_cfg["flow"]))
    if "boxes" in modalities:
        settings = region_settings({**dict(data_cfg["regions"]), "resolution": "cache"})
        arrays["boxes"] = video_boxes(list(frames), settings)
    return memory_video(f"{video.video}@noise", arrays, labels=labels)
