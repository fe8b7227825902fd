"""The joint appearance + motion model: shapes, flow errors, stream statistics, training, runs."""

from __future__ import annotations

from pathlib import Path

import hydra
import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf, open_dict

from tests.helpers import fit_fixed_batch, moving_square
from vad.data.flow import compute_flow
from vad.errors import DataError
from vad.models.checkpoint import load_model
from vad.models.fitted import FittedStatistics
from vad.models.joint import JointModule, JointNet
from vad.models.joint.combined_score import STAT_COLUMNS, combined_score, flow_errors, log_errors
from vad.models.joint.lightning_model import JointConfigError, training_flow_rms
from vad.scoring.scorer import Scorer
from vad.tasks.predict import predict
from vad.tasks.train import train

TINY_JOINT = ["model=joint", "model.motion_width=2"]
COLUMNS = ["mse", "psnr", "patch_max", "flow_mse", "flow_patch_max", "combined"]


@pytest.mark.parametrize(("h", "w"), [(32, 32), (30, 45)])
def test_net_shapes(h: int, w: int) -> None:
    net = JointNet(frame_channels=3, history=4, base_width=4, motion_width=2, depth=3)
    frame, flow = net(torch.randn(2, 12, h, w), torch.randn(2, 2, h, w))
    assert frame.shape == (2, 3, h, w) and flow.shape == (2, 2, h, w)
    assert frame.abs().max() <= 1  # tanh
    assert flow.abs().max() > 0


def test_default_model_is_slim() -> None:
    cfg = OmegaConf.load(Path(__file__).parents[1] / "conf" / "model" / "joint.yaml")
    net = JointNet(1, cfg.history, cfg.base_width, cfg.motion_width, cfg.depth)
    assert sum(p.numel() for p in net.parameters()) < 1.5e6


def test_bad_settings() -> None:
    with pytest.raises(JointConfigError, match="history must be >= 2"):
        _module(history=1)
    with pytest.raises(JointConfigError, match="score needs frame in"):
        _module(score={"frame": "psnr"})
    with pytest.raises(JointConfigError, match="score needs frame in"):
        _module(score={"flow_weights": 2})
    module = _module()
    module.flow_scale.zero_()
    with pytest.raises(JointConfigError, match="flow_scale is not set"):
        module(module.on_after_batch_transfer(_batch(), 0))


def test_flow_errors_are_in_pixels() -> None:
    target = torch.zeros(2, 2, 16, 16)
    pred = target.clone()
    pred[0, 0] = 1.0  # 1 px off everywhere in x
    pred[1, :, :4, :4] = 2.0  # (2, 2) px off in one corner: squared endpoint error 8
    errors = flow_errors(pred, target, patch_size=4)
    assert errors["flow_mse"].tolist() == pytest.approx([1.0, 8 * 16 / 256])
    assert errors["flow_patch_max"].tolist() == pytest.approx([1.0, 8.0])


def test_error_stats_and_combined_score() -> None:
    rng = np.random.default_rng(0)
    columns = {c: rng.random(50) * (i + 1) + 0.1 for i, c in enumerate(STAT_COLUMNS)}
    stats = FittedStatistics({"log_error": (len(STAT_COLUMNS),)})
    stats.update("log_error", log_errors({c: torch.tensor(v[:20]) for c, v in columns.items()}))
    stats.update("log_error", log_errors({c: torch.tensor(v[20:]) for c, v in columns.items()}))
    stats.finish()
    mean, std = stats.mean("log_error"), stats.std("log_error")
    expected = {c: (np.log(v).mean(), np.log(v).std()) for c, v in columns.items()}
    table = torch.stack([mean, std], dim=1)
    assert table.numpy() == pytest.approx(np.array([expected[c] for c in STAT_COLUMNS]), rel=1e-5)
    errors = {c: torch.tensor(v) for c, v in columns.items()}
    score = combined_score(errors, mean, std, {"patch_max": 1.0, "flow_mse": 0.5})
    z = {c: (np.log(v) - expected[c][0]) / expected[c][1] for c, v in columns.items()}
    assert score.numpy() == pytest.approx(z["patch_max"] + 0.5 * z["flow_mse"], rel=1e-4, abs=1e-5)


# --- the Lightning module --------------------------------------------------------------------


def _batch(b: int = 2, length: int = 5, size: int = 32) -> dict:
    """Clips of a square moving right over a texture, with their cached-style flow."""
    clips = np.array(
        [
            [moving_square(t + 3 * i, (size, size), speed=1, seed=i) for t in range(length)]
            for i in range(b)
        ],
        dtype=np.uint8,
    )[..., None]
    flow = np.stack([compute_flow(clip, np.arange(length)) for clip in clips])
    return {
        "frames": torch.from_numpy(clips),
        "flow": torch.from_numpy(flow),
        "video": ["01"] * b,
        "frame_ids": torch.arange(length).repeat(b, 1) + 10,
    }


def _module(**kwargs) -> JointModule:
    optimizer = lambda params: torch.optim.Adam(params, lr=3e-3)  # noqa: E731
    settings = {"history": 4, "base_width": 4, "motion_width": 4, "depth": 2, **kwargs}
    module = JointModule((32, 32), 1, optimizer, **settings)
    module.flow_scale.fill_(0.5)
    return module


def test_module_scores_the_target_frame_with_all_columns() -> None:
    module = _module()
    batch = module.on_after_batch_transfer(_batch(), 0)
    assert batch.flow.shape == (2, 5, 2, 32, 32) and batch.flow.dtype == torch.float32
    out = module(batch)
    assert out.pred.shape == (2, 1, 32, 32) and out.extra["flow_pred"].shape == (2, 2, 32, 32)
    assert torch.equal(out.extra["flow_target"], batch.flow[:, 4])  # exact: a copied slice
    module.fitted.log_error_mean.copy_(torch.tensor([-6.0, -5.0, -2.0, -1.0]))
    module.fitted.log_error_std.copy_(torch.tensor([1.0, 2.0, 0.5, 0.1]))
    out = module.predict_step(batch, 0)
    assert out.frame_ids.tolist() == [[14], [14]]
    s = module.frame_scores(out)
    assert list(s) == COLUMNS
    expected = (s["mse"].log() + 6) + (s["flow_mse"].log() + 2) / 0.5  # defaults: mse, flow_mse
    assert torch.allclose(s["combined"], expected, atol=1e-4)


@pytest.mark.slow
def test_training_reduces_both_losses_on_a_fixed_batch() -> None:
    torch.manual_seed(0)
    module = _module()
    batch = module.on_after_batch_transfer(_batch(b=4), 0)
    history = fit_fixed_batch(module, batch, 40)
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]
    assert history[-1]["flow"] < 0.75 * history[0]["flow"]


# --- runs ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_train_predict_and_flow_mismatch(make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg("train", TINY_JOINT)
    train(cfg)
    run = Path(cfg.paths.output_dir)
    scores = pd.read_csv(run / "scores.csv", dtype={"video": str})
    assert [c for c in COLUMNS if c in scores.columns] == COLUMNS
    assert np.isfinite(scores[COLUMNS].to_numpy()).all()
    model, meta = load_model(run / "checkpoints" / "best.ckpt")
    assert model.flow_scale > 0 and model.fitted.is_fitted("log_error")
    assert meta["model"]["flow"] == meta["data"]["flow"]
    # the stored statistics are those of the validation video under the stored weights
    datamodule = hydra.utils.instantiate(meta["data"])
    datamodule.configure_clips(model.clip_length, model.modalities)
    assert model.flow_scale.item() == pytest.approx(training_flow_rms(datamodule.videos("train")))
    stats = FittedStatistics({"log_error": (len(STAT_COLUMNS),)})
    scorer = Scorer(model)
    for batch in datamodule.val_dataloader():
        stats.update("log_error", log_errors(model.stream_errors(scorer.run(batch))))
    stats.finish()
    for moment in ("mean", "std"):
        stored, measured = getattr(model.fitted, moment), getattr(stats, moment)
        assert torch.allclose(stored("log_error"), measured("log_error"), rtol=1e-3, atol=1e-4)

    pcfg = make_cfg("predict", [f"ckpt_path={run}"])
    with open_dict(pcfg):
        pcfg.paths.output_dir = str(tmp_path / "predict")
    predict(pcfg)
    again = pd.read_csv(tmp_path / "predict" / "scores.csv", dtype={"video": str})
    pd.testing.assert_frame_equal(again, scores, check_exact=False, rtol=1e-4, atol=1e-6)

    data = OmegaConf.create(meta["data"])
    data.flow.method = "dis"
    # other flow settings given on the command line (others would come from the checkpoint)
    mismatch = make_cfg("predict", [f"ckpt_path={run}", "data=synthetic", "data.flow.method=dis"])
    with open_dict(mismatch):
        mismatch.data = data
        mismatch.paths.output_dir = str(tmp_path / "mismatch")
    with pytest.raises(DataError, match="trained on flow"):
        predict(mismatch)


def test_needs_validation_videos(make_cfg) -> None:
    cfg = make_cfg("train", [*TINY_JOINT, "data.val_videos=0", "callbacks.model_checkpoint=null"])
    with pytest.raises(JointConfigError, match="needs validation videos"):
        train(cfg)


def test_unfitted_model_cannot_predict_combined() -> None:
    module = _module()
    assert not module.fitted.is_fitted("log_error")
    with pytest.raises(JointConfigError, match="no validation error statistics"):
        module.on_predict_start()
