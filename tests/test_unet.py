"""The U-Net predictor: shapes, losses, adversarial training and one training step."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from tests.helpers import fit_fixed_batch, moving_square
from vad.errors import VADError
from vad.models.losses import gradient_loss, intensity_loss, motion_weights
from vad.models.optimisers import generator_parameters
from vad.models.schedules import WarmupCosine
from vad.models.unet import UNet, UNetModule


@pytest.mark.parametrize(("h", "w"), [(32, 32), (30, 45), (17, 64)])
def test_unet_output_shape_for_odd_sizes(h: int, w: int) -> None:
    net = UNet(in_channels=8, out_channels=2, base_width=4, depth=3)
    out = net(torch.randn(3, 8, h, w))
    assert out.shape == (3, 2, h, w)
    assert out.abs().max() <= 1  # tanh


def test_gradient_loss_sees_edges_not_brightness() -> None:
    target = torch.zeros(1, 1, 8, 8)
    target[..., 4:] = 1.0
    brighter = target + 0.5
    assert gradient_loss(brighter, target) == 0  # exact: 0.5 + {0, 1} keeps every difference
    assert intensity_loss(brighter, target) == pytest.approx(0.25)
    blurred = torch.full_like(target, 0.5)
    assert gradient_loss(blurred, target) > 0


def _batch(b: int = 2, length: int = 5, size: int = 16) -> dict:
    """Clips of a bright square moving right over a textured background."""
    clips = [
        [moving_square(t + 3 * i, (size, size), speed=1, seed=i) for t in range(length)]
        for i in range(b)
    ]
    frames = torch.from_numpy(np.array(clips, dtype=np.uint8))[..., None]
    return {
        "frames": frames,
        "video": ["01"] * b,
        "frame_ids": torch.arange(length).repeat(b, 1) + 10,
    }


def _module(**kwargs) -> UNetModule:
    optimizer = lambda params: torch.optim.Adam(params, lr=1e-3)  # noqa: E731
    # torch's default init (init_std=None): the fixed-batch tests measure the loss from there
    kwargs.setdefault("init_std", None)
    return UNetModule((16, 16), 1, optimizer, history=4, base_width=4, depth=2, **kwargs)


def test_module_scores_the_target_frame_with_its_original_id() -> None:
    module = _module()
    batch = module.on_after_batch_transfer(_batch(), 0)
    assert batch.frames.shape == (2, 5, 1, 16, 16)
    assert batch.frames.min() >= -1 and batch.frames.max() <= 1
    prediction = module.predict_step(batch, 0)
    assert prediction.frame_ids.tolist() == [[14], [14]]
    scores = module.frame_scores(prediction)
    assert set(scores) == {"mse", "psnr", "patch_max"}
    assert scores["mse"].shape == (2,)


@pytest.mark.slow
def test_training_reduces_the_loss_on_a_fixed_batch() -> None:
    torch.manual_seed(0)
    module = _module()
    batch = module.on_after_batch_transfer(_batch(b=4), 0)
    history = fit_fixed_batch(module, batch, 30)
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]


def test_adversarial_option_builds_a_discriminator_and_two_optimisers() -> None:
    module = _module(adversarial={"weight": 0.05, "lr": 1e-4, "width": 8, "layers": 2})
    assert module.discriminator is not None and not module.automatic_optimization
    d_params = {id(p) for p in module.discriminator.parameters()}
    assert not d_params & {id(p) for p in generator_parameters(module)}
    assert len(module.configure_optimizers()) == 2


def test_warmup_cosine_schedule() -> None:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = WarmupCosine(opt, total_steps=110, warmup_steps=10, min_ratio=0.1)
    factors = [schedule.factor(s) for s in (0, 9, 10, 60, 110, 500)]
    assert factors[0] == pytest.approx(0.1) and factors[1] == pytest.approx(1.0)
    assert factors[2] == pytest.approx(1.0) and factors[3] == pytest.approx(0.55)
    assert factors[4] == pytest.approx(0.1) and factors[5] == pytest.approx(0.1)


@pytest.mark.slow
def test_adversarial_training_runs(make_cfg) -> None:
    from vad.tasks.train import train

    cfg = make_cfg(
        "train",
        [
            "model.adversarial.weight=0.05",
            "model.adversarial.width=4",
            "model.adversarial.layers=2",
            "test=false",
        ],
    )
    train(cfg)
    assert OmegaConf.select(cfg, "model.adversarial.weight") == 0.05  # exact: parsed, copied


def test_normal_init_draws_conv_weights_around_zero_and_norm_scales_around_one() -> None:
    torch.manual_seed(0)
    net = UNet(in_channels=4, out_channels=1, base_width=16, depth=2, init_std=0.02)
    conv = net.stem[0].weight
    norm = net.stem[1]
    assert conv.std().item() == pytest.approx(0.02, rel=0.1) and abs(conv.mean().item()) < 0.005
    # the bias is exact: initialised to zeros
    assert norm.weight.mean().item() == pytest.approx(1.0, abs=0.02) and norm.bias.abs().max() == 0
    default = UNet(in_channels=4, out_channels=1, base_width=16, depth=2)
    assert default.stem[0].weight.std().item() > 0.05  # Kaiming-uniform, fan-in 36


def test_motion_weights_average_one_and_favour_what_moves() -> None:
    previous = torch.zeros(1, 1, 8, 8)
    target = torch.zeros(1, 1, 8, 8)
    target[..., 2:4, 2:4] = 1.0  # 4 moving pixels of 64
    plain = motion_weights(previous, target, 0.0)
    assert torch.equal(plain, torch.ones(1, 1, 8, 8))  # exact: (1 - 0) + 0 * m / mean = 1
    weights = motion_weights(previous, target, 0.5)
    assert weights.mean().item() == pytest.approx(1.0)
    assert weights[0, 0, 2, 2].item() == pytest.approx(0.5 + 0.5 * 16)  # motion / mean = 16
    assert weights[0, 0, 0, 0].item() == pytest.approx(0.5)


@pytest.mark.slow
def test_motion_weighted_training_runs_and_checks_its_weight() -> None:
    torch.manual_seed(0)
    module = _module(loss={"motion": 0.5})
    batch = module.on_after_batch_transfer(_batch(b=4), 0)
    history = fit_fixed_batch(module, batch, 20)
    assert history[-1]["loss"] < history[0]["loss"]
    with pytest.raises(VADError, match=r"model\.loss\.motion=2"):
        _module(loss={"motion": 2})
