"""STAE: shapes, the weight-decreasing prediction loss, branch mixing and per-frame scoring."""

from __future__ import annotations

import math
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import open_dict

from tests.conftest import TINY, TINY_DATA
from tests.helpers import fit_fixed_batch, moving_square
from vad.cli.stae_mix import select_mix
from vad.errors import DataError, ScoreFileError
from vad.models.checkpoint import load_model
from vad.models.stae import STAE, STAEModule
from vad.models.stae.lightning_model import prediction_weights, weighted_prediction_loss
from vad.models.stae.scoring import branch_weights, mix_scores
from vad.models.stae.torch_model import Conv3d
from vad.scoring.pseudo_anomaly import pseudo_anomalies, speed_up
from vad.scoring.scorer import Scorer
from vad.tasks.predict import predict
from vad.tasks.train import train

TINY_STAE = [
    "model=stae",
    "model.input_frames=2",
    "model.widths=[4,6,8]",
    "model.scheduler.warmup_steps=2",
    "scoring.report.enabled=false",
]


@pytest.mark.parametrize(("t", "h", "w"), [(8, 32, 32), (5, 17, 30), (3, 24, 45), (1, 9, 9)])
def test_stae_output_shapes_for_odd_lengths_and_sizes(t: int, h: int, w: int) -> None:
    net = STAE(channels=2, widths=(4, 6, 8, 8))
    reconstruction, prediction = net(torch.randn(2, 2, t, h, w))
    assert reconstruction.shape == prediction.shape == (2, 2, t, h, w)
    assert reconstruction.abs().max() <= 1 and prediction.abs().max() <= 1  # tanh


def test_decoders_mirror_the_encoder_widths() -> None:
    net = STAE(channels=1)
    for decoder in (net.reconstruct, net.predict):
        ups = [m for m in decoder.modules() if isinstance(m, torch.nn.ConvTranspose3d)]
        assert [(m.in_channels, m.out_channels) for m in ups] == [(64, 48), (48, 32), (32, 32)]
        assert isinstance(decoder[-2], torch.nn.Conv3d) and decoder[-2].out_channels == 1
    assert net.reconstruct is not net.predict


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_conv3d_weight_gradient_under_bf16_autocast_matches_float32(depth: int) -> None:
    torch.manual_seed(0)
    conv = Conv3d(16, 16, 3, padding=1, bias=False)
    conv.weight.data = conv.weight.data.bfloat16().float()
    x = torch.randn(2, 16, depth, 8, 8).bfloat16().float()
    conv(x).pow(2).mean().backward()
    reference, conv.weight.grad = conv.weight.grad, None
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = conv(x)
    y.float().pow(2).mean().backward()
    error = (conv.weight.grad - reference).norm() / reference.norm()
    assert error < 0.02


def test_prediction_weights_decrease_linearly_and_sum_to_one() -> None:
    assert prediction_weights(4).tolist() == pytest.approx([0.4, 0.3, 0.2, 0.1])
    assert prediction_weights(16).sum().item() == pytest.approx(1.0)
    assert prediction_weights(1).tolist() == [1.0]  # exact: 1 / 1
    with pytest.raises(ValueError):
        prediction_weights(0)


def test_prediction_loss_weights_each_future_frame() -> None:
    target = torch.zeros(2, 3, 1, 4, 4)
    pred = torch.zeros_like(target)
    pred[:, 0], pred[:, 2] = 1.0, 2.0  # per-frame MSE 1, 0, 4
    expected = (3 * 1 + 2 * 0 + 1 * 4) / 6
    assert weighted_prediction_loss(pred, target).item() == pytest.approx(expected)


def _module(t: int = 3, **kwargs) -> STAEModule:
    optimizer = lambda params: torch.optim.Adam(params, lr=3e-3)  # noqa: E731
    return STAEModule((16, 16), 1, optimizer, input_frames=t, widths=(4, 8, 8), **kwargs)


def _batch(b: int = 2, length: int = 6, size: int = 16) -> dict:
    clips = [
        [moving_square(t + 5 * i, (size, size), speed=1, seed=i) for t in range(length)]
        for i in range(b)
    ]
    return {
        "frames": torch.from_numpy(np.array(clips, dtype=np.uint8))[..., None],
        "video": [f"v{i}" for i in range(b)],
        "frame_ids": torch.arange(length).repeat(b, 1) + 100,
    }


def test_frame_scores_cover_every_clip_frame_with_one_branch() -> None:
    module = _module(t=3).eval()
    scorer = Scorer(module)
    out = scorer.run(_batch())
    assert out.pred.shape == out.target.shape == (2, 6, 1, 16, 16)
    rows = scorer.rows(out)
    assert rows["video"].tolist() == ["v0"] * 6 + ["v1"] * 6
    assert rows["frame"].tolist() == list(range(100, 106)) * 2
    columns = {"recon_mse", "recon_patch_max", "pred_mse", "pred_patch_max"}
    assert set(rows.columns) == {"video", "frame", *columns}
    is_input = np.array([True] * 3 + [False] * 3 + [True] * 3 + [False] * 3)
    for branch, covered in (("recon", is_input), ("pred", ~is_input)):
        for name in ("mse", "patch_max"):
            assert np.isfinite(rows[f"{branch}_{name}"][covered]).all()
            assert np.isnan(rows[f"{branch}_{name}"][~covered]).all()


def test_position_calibration_rescales_each_clip_position() -> None:
    module = _module(t=3).eval()
    out = Scorer(module).run(_batch())
    errors = module.fitted.position_error_mean
    errors.fill_(1.0)
    errors[0] = torch.tensor([2.0, 1.0, 1.0, 1.0, 1.0, 6.0])  # mse, mean 2
    factors = torch.tensor([1.0, 2.0, 2.0, 2.0, 2.0, 1 / 3])
    assert torch.allclose(module.position_factors()[0], factors)
    calibrated = module.frame_scores(out)
    module.calibrate_positions = False
    raw = module.frame_scores(out)
    expected = raw["recon_mse"].view(2, 6)[:, :3] * factors[:3]
    assert torch.allclose(calibrated["recon_mse"].view(2, 6)[:, :3], expected)
    expected = raw["pred_mse"].view(2, 6)[:, 3:] * factors[3:]
    assert torch.allclose(calibrated["pred_mse"].view(2, 6)[:, 3:], expected)
    # patch_max positions are still uncalibrated (all ones)
    torch.testing.assert_close(calibrated["pred_patch_max"], raw["pred_patch_max"], equal_nan=True)


@pytest.mark.slow
def test_training_reduces_both_losses_on_a_fixed_batch() -> None:
    torch.manual_seed(0)
    module = _module(t=3)
    batch = module.on_after_batch_transfer(_batch(b=4), 0)
    history = fit_fixed_batch(module, batch, 40)
    first, last = history[0], history[-1]
    assert last["reconstruction"] < 0.5 * first["reconstruction"]
    assert last["prediction"] < 0.5 * first["prediction"]


def test_branch_weights_are_normalised_and_validated() -> None:
    # exact: 3 / 4, 1 / 4, 0 / 2 and 2 / 2
    assert branch_weights({"reconstruction": 3, "prediction": 1}) == {"recon": 0.75, "pred": 0.25}
    assert branch_weights({"prediction": 2}) == {"recon": 0.0, "pred": 1.0}
    for bad in ({"reconstruction": 0, "prediction": 0}, {"prediction": -1}, {"recon": 1}):
        with pytest.raises(ValueError):
            branch_weights(bad)


def _branch_table() -> pd.DataFrame:
    """Video a: frame 0 recon only, frames 1-2 both (pred = 2 x recon), frame 3 pred only;
    video b has no frame with both branches (it takes the ratio over all videos)."""
    nan = math.nan
    return pd.DataFrame(
        {
            "video": ["a"] * 4 + ["b"] * 2,
            "frame": [0, 1, 2, 3, 0, 1],
            "recon_mse": [0.01, 0.01, 0.02, nan, 0.03, nan],
            "pred_mse": [nan, 0.02, 0.04, 0.08, nan, 0.05],
            "recon_patch_max": [0.1, 0.1, 0.1, nan, 0.3, nan],
            "pred_patch_max": [nan, 0.3, 0.3, 0.6, nan, 0.9],
        }
    )


def test_mix_in_error_space_with_single_branch_frames_rescaled() -> None:
    scores = _branch_table()
    mixed = mix_scores(scores, {"recon": 0.5, "pred": 0.5})
    # missing pred = recon x 2 (ratio of the branch means in video a), missing recon = pred / 2
    assert mixed["mse"].tolist() == pytest.approx([0.015, 0.015, 0.03, 0.06, 0.045, 0.0375])
    assert mixed["patch_max"].tolist() == pytest.approx([0.2, 0.2, 0.2, 0.4, 0.6, 0.6])
    assert mixed["psnr"].tolist() == pytest.approx([10 * math.log10(1 / v) for v in mixed["mse"]])
    assert mixed["recon_mse"].isna().sum() == 2  # raw branch columns are left as they were
    only_recon = mix_scores(scores, {"recon": 1.0, "pred": 0.0})
    assert only_recon["mse"].tolist() == pytest.approx([0.01, 0.01, 0.02, 0.04, 0.03, 0.025])


def test_mix_rejects_frames_without_any_branch() -> None:
    scores = _branch_table()
    scores.loc[5, "pred_mse"] = math.nan
    with pytest.raises(ScoreFileError, match="video 'b' frame 1"):
        mix_scores(scores, {"recon": 0.5, "pred": 0.5})


def test_speed_up_plays_a_segment_faster_without_a_jump() -> None:
    positions, labels = speed_up(12, start=2, span=3, factor=2)
    assert positions.tolist() == [0, 1, 2, 4, 6, 8, 9, 10, 11]
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 0]  # the frames reached by a jump
    with pytest.raises(ValueError):
        speed_up(12, start=8, span=3, factor=2)


def _tiny_train(make_cfg, overrides: list[str]):
    """A composed tiny STAE training config (the shared TINY overrides minus U-Net keys)."""
    tiny = [o for o in TINY if not o.startswith("model.")]
    return make_cfg("train", [*TINY_DATA, *tiny, *TINY_STAE, *overrides], tiny=False)


@pytest.mark.slow
def test_train_predict_gives_exactly_one_mixed_score_per_frame(make_cfg, tmp_path: Path) -> None:
    cfg = _tiny_train(make_cfg, [])
    train(cfg)
    run = Path(cfg.paths.output_dir)
    scores = pd.read_csv(run / "scores.csv", dtype={"video": str})
    model, meta = load_model(run)
    table = hydra.utils.instantiate(meta["data"]).split_table("test")
    ids = zip(table["video"], table["frame_ids"], strict=True)
    expected = [(video, int(f)) for video, frames in ids for f in frames]
    assert list(zip(scores["video"], scores["frame"], strict=True)) == expected
    assert scores["filled"].sum() == 0  # every frame is in some clip: no warm-up fill
    # the validation epochs measured the normal error of each clip position
    errors = model.fitted.mean("position_error")
    assert errors.shape == (2, 4) and (errors > 0).all()
    assert not torch.equal(errors, torch.ones(2, 4))
    # T = 2: the first 2 frames of a video are reconstruction-only, the last 2 prediction-only
    first = scores.groupby("video").head(2)
    last = scores.groupby("video").tail(2)
    assert first["pred_mse"].isna().all() and first["recon_mse"].notna().all()
    assert last["recon_mse"].isna().all() and last["pred_mse"].notna().all()
    for column in ("mse", "psnr", "patch_max"):
        assert np.isfinite(scores[column]).all()
    remixed = mix_scores(scores.drop(columns=["mse", "psnr", "patch_max"]), model.mix)
    np.testing.assert_allclose(remixed["psnr"], scores["psnr"], rtol=1e-6)

    pcfg = make_cfg(
        "predict", [f"ckpt_path={run}", "scoring.aggregate=max", "scoring.report.enabled=false"]
    )
    with open_dict(pcfg):
        pcfg.paths.output_dir = str(tmp_path / "predict")
    predict(pcfg)
    worst = pd.read_csv(tmp_path / "predict" / "scores.csv", dtype={"video": str})
    assert list(zip(worst["video"], worst["frame"], strict=True)) == expected
    assert (worst["recon_mse"].fillna(0) >= scores["recon_mse"].fillna(0) - 1e-9).all()
    assert (worst["pred_mse"].fillna(0) >= scores["pred_mse"].fillna(0) - 1e-9).all()

    table = select_mix(run, {"factors": [2], "pasted": {"copies": 1, "span": 6}}, sigma=1.0)
    assert table["kind"].tolist() == ["x2"] * 7 + ["pasted"] * 7 + ["mean"] * 7
    assert table["micro_auc"].between(0, 1).all()


def test_pseudo_anomalies_speed_up_a_segment_of_at_least_min_span_per_copy() -> None:
    frames = np.arange(60)[:, None, None, None].astype(np.uint8)
    copies = list(pseudo_anomalies(frames, clip_length=4, factor=3, copies=2))
    assert [start for start, _, _ in copies] == [2, 34]  # half-clip margins
    _, sped, labels = copies[1]  # a segment of MIN_SPAN = 8 jumps (a clip of 4 is shorter)
    assert sped[labels == 1].ravel().tolist() == [37, 40, 43, 46, 49, 52, 55, 58]
    assert len(sped) == 60 - 8 * 2
    with pytest.raises(DataError):
        list(pseudo_anomalies(frames[:27], clip_length=4, factor=3))
