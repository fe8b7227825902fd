"""ROADMAP-lite: the ConvGRU, the multi-path predictor, the noise-tolerance loss, training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from omegaconf import open_dict

from tests.helpers import fit_fixed_batch, moving_square
from vad.data.batch import ClipBatch
from vad.errors import VADError
from vad.models.components.convgru import ConvGRU, ConvGRUCell
from vad.models.losses import (
    gradient_loss,
    intensity_loss,
    noise_tolerant_gradient_loss,
    noise_tolerant_loss,
    temporal_noise_level,
)
from vad.models.roadmap import MultiPathPredictor, RoadmapModule

# ---- ConvGRU ---------------------------------------------------------------------------------


def _cell(hidden: int = 3, dilation: int = 1) -> ConvGRUCell:
    torch.manual_seed(0)
    return ConvGRUCell(2, hidden, kernel_size=3, dilation=dilation)


def _force(cell: ConvGRUCell, gate: str, value: float) -> None:
    """Saturate a gate: zero its weights and set its bias to +-50 (sigmoid -> 1 or 0)."""
    n = cell.hidden_channels
    rows = slice(0, n) if gate == "z" else slice(n, 2 * n)
    with torch.no_grad():
        cell.input_conv.weight[rows] = 0
        cell.hidden_gates.weight[rows] = 0
        cell.input_conv.bias[rows] = 50.0 if value == 1 else -50.0


@pytest.mark.parametrize("dilation", [1, 2])
def test_convgru_cell_matches_the_gru_equations(dilation: int) -> None:
    cell = _cell(dilation=dilation)
    x, h = torch.randn(2, 2, 9, 11), torch.randn(2, 3, 9, 11)
    p = dilation
    wx, bx = cell.input_conv.weight, cell.input_conv.bias
    xz, xr, xc = F.conv2d(x, wx, bx, padding=p, dilation=dilation).chunk(3, dim=1)
    hz, hr = F.conv2d(h, cell.hidden_gates.weight, padding=p, dilation=dilation).chunk(2, dim=1)
    z, r = torch.sigmoid(xz + hz), torch.sigmoid(xr + hr)
    c = torch.tanh(xc + F.conv2d(r * h, cell.hidden_candidate.weight, padding=p, dilation=p))
    expected = (1 - z) * h + z * c
    torch.testing.assert_close(cell(x, h), expected)


def test_zero_update_gate_keeps_the_state() -> None:
    cell = _cell()
    _force(cell, "z", 0)
    h = torch.randn(2, 3, 8, 8)
    for _ in range(3):
        # z = sigmoid(-50) < 2e-22 moves h by < 1e-20; an update gate that is not closed moves it
        # by ~0.1: atol 1e-12 separates them
        torch.testing.assert_close(cell(torch.randn(2, 2, 8, 8), h), h, rtol=0, atol=1e-12)


def test_gates_change_the_output() -> None:
    cell = _cell()
    x, h = torch.randn(2, 2, 8, 8), torch.randn(2, 3, 8, 8)
    free = cell(x, h)
    _force(cell, "z", 1)  # the state is replaced by the candidate
    replaced = cell(x, h)
    assert not torch.allclose(free, replaced, atol=1e-3)
    assert not torch.allclose(replaced, h, atol=1e-3)
    assert replaced.abs().max() < 1  # a tanh candidate


def test_reset_gate_acts_on_the_hidden_state_inside_the_candidate() -> None:
    cell = _cell()
    _force(cell, "z", 1)  # output = candidate
    x, h1, h2 = torch.randn(2, 2, 8, 8), torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    assert not torch.allclose(cell(x, h1), cell(x, h2), atol=1e-3)  # r ~ 0.5: h matters
    _force(cell, "r", 0)  # a closed reset gate hides the state from the candidate
    torch.testing.assert_close(cell(x, h1), cell(x, h2))
    # ... whose input part is a convolution of x, not x itself
    wx, bx = cell.input_conv.weight, cell.input_conv.bias
    xc = F.conv2d(x, wx, bx, padding=1).chunk(3, dim=1)[2]
    torch.testing.assert_close(cell(x, h1), torch.tanh(xc))
    _force(cell, "r", 1)
    assert not torch.allclose(cell(x, h1), cell(x, h2), atol=1e-3)


def test_convgru_layer_steps_the_cell_over_time() -> None:
    torch.manual_seed(0)
    layer = ConvGRU(2, 3, kernel_size=3)
    x = torch.randn(2, 4, 2, 7, 9)
    states, last = layer(x)
    assert states.shape == (2, 4, 3, 7, 9)
    h = torch.zeros(2, 3, 7, 9)
    for t in range(4):
        h = layer.cell(x[:, t], h)
        torch.testing.assert_close(states[:, t], h)
    torch.testing.assert_close(last, h)
    assert not torch.allclose(states[:, 0], states[:, -1])


def test_convgru_rejects_even_kernels() -> None:
    with pytest.raises(ValueError, match="odd kernel_size"):
        ConvGRUCell(2, 3, kernel_size=4)


# ---- the multi-path predictor ----------------------------------------------------------------


def test_hidden_state_shape_per_path() -> None:
    net = MultiPathPredictor(channels=1, base_width=4, depth=3, dilations=(1, 2, 2))
    shallow, states = net.path_states(torch.randn(2, 4, 1, 32, 48))
    assert shallow.shape == (2, 4, 32, 48)
    assert [tuple(s.shape) for s in states] == [
        (2, 4, 16, 24),
        (2, 8, 8, 12),
        (2, 16, 4, 6),
    ]
    assert [p.cell.hidden_gates.dilation for p in net.paths] == [(1, 1), (2, 2), (2, 2)]


@pytest.mark.parametrize(("h", "w"), [(32, 32), (30, 45), (17, 64)])
def test_predictor_output_shape_for_odd_sizes(h: int, w: int) -> None:
    net = MultiPathPredictor(channels=3, base_width=4, depth=3)
    out = net(torch.randn(2, 4, 3, h, w))
    assert out.shape == (2, 3, h, w)
    assert out.abs().max() <= 1  # tanh


def test_prediction_depends_on_every_input_frame() -> None:
    torch.manual_seed(0)
    net = MultiPathPredictor(channels=1, base_width=4, depth=2, kernel_sizes=(3, 5))
    net.eval()
    frames = torch.randn(1, 4, 1, 16, 16, requires_grad=True)
    net(frames).sum().backward()
    per_frame = frames.grad.abs().flatten(2).sum(dim=2)
    assert (per_frame > 0).all()


# ---- the noise-tolerance loss ----------------------------------------------------------------


def test_noise_tolerant_loss_ignores_residuals_within_the_band() -> None:
    torch.manual_seed(0)
    target = torch.rand(2, 1, 16, 16) * 2 - 1
    noisy = target + (torch.rand_like(target) * 2 - 1) * 0.05  # |noise| <= 0.05
    assert intensity_loss(noisy, target) > 0
    assert noise_tolerant_loss(noisy, target, 0.06) == 0  # exact: every excess clamped to 0
    # an object mispredicted by 0.5 on 16 pixels still costs its excess over the band
    wrong = noisy.clone()
    wrong[:, :, 4:8, 4:8] = target[:, :, 4:8, 4:8] + 0.5
    expected = 2 * 16 * (0.5 - 0.06) ** 2 / target.numel()
    assert noise_tolerant_loss(wrong, target, 0.06).item() == pytest.approx(expected, rel=1e-4)
    # with no band it is the L2 intensity loss
    torch.testing.assert_close(
        noise_tolerant_loss(wrong, target, 0.0), intensity_loss(wrong, target)
    )


def test_noise_tolerant_loss_gives_noisy_pixels_no_gradient() -> None:
    torch.manual_seed(0)
    target = torch.zeros(1, 1, 8, 8)
    pred = (torch.randn(1, 1, 8, 8) * 0.01).clamp(-0.03, 0.03)
    pred[..., 0, 0] = 0.8  # one badly predicted pixel
    pred.requires_grad_(True)
    noise_tolerant_loss(pred, target, torch.tensor([0.03])).backward()
    grad = pred.grad[0, 0]
    assert grad[0, 0] > 0
    assert grad.flatten()[1:].abs().max() == 0  # exact: the clamp passes no gradient
    l2 = pred.detach().clone().requires_grad_(True)
    intensity_loss(l2, target).backward()
    assert l2.grad.flatten()[1:].abs().max() > 0  # L2 chases the noise


def test_noise_tolerant_gradient_loss_weakens_the_pull_towards_noise_texture() -> None:
    g = torch.Generator().manual_seed(0)
    target = 0.2 + 0.03 * torch.randn(2, 1, 32, 32, generator=g)  # a flat noisy background
    flat = torch.full_like(target, 0.2)
    textured = 0.2 + 0.03 * torch.randn(2, 1, 32, 32, generator=g)  # other noise, same level
    torch.testing.assert_close(
        noise_tolerant_gradient_loss(textured, target, 0.0), gradient_loss(textured, target)
    )
    plain = gradient_loss(flat, target) - gradient_loss(textured, target)
    tolerant = noise_tolerant_gradient_loss(flat, target, 0.06) - noise_tolerant_gradient_loss(
        textured, target, 0.06
    )
    assert 0 < tolerant < 0.2 * plain  # the plain loss rewards texture 5x more
    edge = torch.zeros(1, 1, 8, 8)
    edge[..., 4:] = 1.0  # an object edge far above the band still costs
    assert noise_tolerant_gradient_loss(torch.zeros_like(edge), edge, 0.06) > 0


def _clips(b: int = 2, length: int = 5, size: int = 32, noise: float = 0.0) -> torch.Tensor:
    """(B, L, 1, H, W) clips of a moving square in [-1, 1], plus Gaussian noise of std ``noise``."""
    clips = [
        [moving_square(t + 3 * i, (size, size), speed=1, seed=i) for t in range(length)]
        for i in range(b)
    ]
    frames = torch.from_numpy(np.array(clips, dtype=np.float32))[:, :, None] / 127.5 - 1
    return frames + noise * torch.randn(frames.shape, generator=torch.Generator().manual_seed(0))


def test_temporal_noise_level_estimates_the_noise_sigma() -> None:
    assert temporal_noise_level(_clips()).abs().max() < 1e-6  # static background, no noise
    sigma = temporal_noise_level(_clips(noise=0.05, size=48))
    assert sigma.shape == (2,)
    assert sigma.min() > 0.045 and sigma.max() < 0.055  # despite the moving square


def test_module_tolerance_follows_the_noise_and_its_floor() -> None:
    module = _module(loss={"noise_k": 2.0, "min_tolerance": 0.01})
    ids, video = torch.zeros(2, 5, dtype=torch.int64), ["a", "b"]
    clean = ClipBatch(frames=_clips(), video=video, frame_ids=ids)
    noisy = ClipBatch(frames=_clips(noise=0.05, size=48), video=video, frame_ids=ids)
    torch.testing.assert_close(module.tolerance(clean), torch.full((2,), 0.01))
    assert module.tolerance(noisy).min() > 0.09


# ---- the Lightning module --------------------------------------------------------------------


def _module(**kwargs) -> RoadmapModule:
    optimizer = lambda params: torch.optim.Adam(params, lr=2e-3)  # noqa: E731
    return RoadmapModule((16, 16), 1, optimizer, base_width=4, depth=2, **kwargs)


def _batch(b: int = 2) -> dict:
    frames = ((_clips(b=b, size=16) + 1) * 127.5).round().to(torch.uint8)
    return {
        "frames": frames.permute(0, 1, 3, 4, 2),  # (B, L, H, W, C) as the data module gives
        "video": ["01"] * b,
        "frame_ids": torch.arange(5).repeat(b, 1) + 10,
    }


def test_module_scores_the_target_frame_with_its_original_id() -> None:
    module = _module()
    batch = module.on_after_batch_transfer(_batch(), 0)
    prediction = module.predict_step(batch, 0)
    assert prediction.frame_ids.tolist() == [[14], [14]]
    scores = module.frame_scores(prediction)
    assert set(scores) == {"mse", "psnr", "patch_max"}
    out = module(batch)
    losses = module.losses(batch, out)
    assert set(losses) == {"intensity", "gradient", "loss"}
    # clean frames: no band, so the loss is FFP's
    torch.testing.assert_close(losses["intensity"], intensity_loss(out.pred, out.target))
    torch.testing.assert_close(losses["gradient"], gradient_loss(out.pred, out.target))


@pytest.mark.slow
def test_training_reduces_the_loss_on_a_fixed_batch() -> None:
    torch.manual_seed(0)
    module = _module()
    batch = module.on_after_batch_transfer(_batch(b=4), 0)
    history = fit_fixed_batch(module, batch, 25)
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]


def test_per_path_settings_must_match_the_depth() -> None:
    with pytest.raises(VADError, match="path_dilations"):
        _module(path_dilations=[1, 2, 2])
    with pytest.raises(VADError, match="unknown term"):
        _module(loss={"perceptual": 1.0})
    module = _module(path_kernel_sizes=[3, 5], path_dilations=2)
    assert [p.cell.hidden_candidate.kernel_size for p in module.net.paths] == [(3, 3), (5, 5)]
    assert [p.cell.hidden_candidate.dilation for p in module.net.paths] == [(2, 2), (2, 2)]


@pytest.mark.slow
def test_train_then_predict_writes_standard_scores(make_cfg, tmp_path: Path) -> None:
    from vad.tasks.predict import predict
    from vad.tasks.train import train

    cfg = make_cfg("train", ["model=roadmap", "model.path_dilations=[1,2]"])
    train(cfg)
    run = Path(cfg.paths.output_dir)
    pcfg = make_cfg("predict", [f"ckpt_path={run}"])
    with open_dict(pcfg):
        pcfg.paths.output_dir = str(tmp_path / "predict")
    predict(pcfg)
    scores = pd.read_csv(tmp_path / "predict" / "scores.csv", dtype={"video": str})
    assert {"video", "frame", "mse", "psnr", "patch_max", "filled", "label"} <= set(scores)
    assert scores[["mse", "psnr", "patch_max"]].notna().all().all()
    train_scores = pd.read_csv(run / "scores.csv", dtype={"video": str})
    pd.testing.assert_frame_equal(scores, train_scores, check_exact=False, rtol=1e-5)
