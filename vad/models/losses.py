"""Losses shared by the frame-prediction models (FFP, Liu et al., CVPR 2018, Sec. 3.2-3.4)."""

from __future__ import annotations

import torch


def intensity_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L2 distance between the predicted and true frame (mean over all elements)."""
    return torch.mean((pred - target) ** 2)


def motion_weights(previous: torch.Tensor, target: torch.Tensor, alpha: float) -> torch.Tensor:
    """Per-pixel loss weights that favour what moves, as AED-MAE weighs its reconstruction loss by
    motion gradients (Ristea et al., CVPR 2024): ``(1 - alpha) + alpha * m / mean(m)`` with
    ``m = |target - previous|`` averaged over channels, so that every frame's weights average 1
    and ``alpha = 0`` is the plain loss. (N, C, H, W) frames -> (N, 1, H, W)."""
    motion = (target.float() - previous.float()).abs().mean(dim=1, keepdim=True)
    scale = motion.flatten(1).mean(dim=1).clamp_min(1e-6).view(-1, 1, 1, 1)
    return (1 - alpha) + alpha * motion / scale


def weighted_intensity_loss(
    pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """L2 distance weighted per pixel (``weights`` broadcast over channels)."""
    return torch.mean(weights * (pred - target) ** 2)


def image_gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Absolute differences between horizontally and vertically neighbouring pixels."""
    return (x[..., :, 1:] - x[..., :, :-1]).abs(), (x[..., 1:, :] - x[..., :-1, :]).abs()


def gradient_loss(pred: torch.Tensor, target: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Gradient difference loss: ``|| |grad pred| - |grad target| ||_alpha`` along x and y."""
    pdx, pdy = image_gradients(pred)
    tdx, tdy = image_gradients(target)
    return torch.mean((pdx - tdx).abs() ** alpha) + torch.mean((pdy - tdy).abs() ** alpha)


def lsgan_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Least-squares GAN loss of the generator: push D(G(x)) towards 1."""
    return torch.mean((fake_logits - 1) ** 2) / 2


def lsgan_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Least-squares GAN loss of the discriminator: D(real) -> 1, D(fake) -> 0."""
    return (torch.mean((real_logits - 1) ** 2) + torch.mean(fake_logits**2)) / 2


def temporal_noise_level(frames: torch.Tensor) -> torch.Tensor:
    """Robust per-clip noise level of frames (B, T, C, H, W), T >= 2 -> (B,).

    Background noise (sensor noise, flicker, compression) makes static pixels fluctuate between
    consecutive frames; with a static camera, moving objects cover a minority of pixels. The
    median absolute temporal difference, scaled to a Gaussian standard deviation (x 1.4826) and
    divided by sqrt(2) (the difference of two noisy frames has twice the variance), estimates the
    per-frame noise sigma.
    """
    if frames.ndim != 5 or frames.shape[1] < 2:
        raise ValueError(f"need clips (B, T>=2, C, H, W), got shape {tuple(frames.shape)}")
    diff = (frames[:, 1:].float() - frames[:, :-1].float()).abs().flatten(1)
    return 1.4826 * diff.median(dim=1).values / 2**0.5


def _per_sample(value: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    """A float or a (B,) tensor as float32 broadcastable against ``like`` (B, ...)."""
    value = torch.as_tensor(value, dtype=torch.float32, device=like.device)
    return value.view(-1, *([1] * (like.ndim - 1))) if value.ndim == 1 else value


def noise_tolerant_loss(
    pred: torch.Tensor, target: torch.Tensor, tolerance: torch.Tensor | float
) -> torch.Tensor:
    """Squared error beyond a tolerance band: ``mean(max(|pred - target| - tolerance, 0)^2)``.

    Residuals within ``tolerance`` (e.g. a multiple of the noise level, per sample: shape (B,) or
    a float) cost nothing, so unpredictable background noise gives no gradient; larger errors
    (objects the model mispredicts) are penalised like an L2 loss shifted by the band. With
    tolerance 0 this is ``intensity_loss``.
    """
    excess = ((pred.float() - target.float()).abs() - _per_sample(tolerance, pred)).clamp_min(0)
    return torch.mean(excess**2)


def noise_tolerant_gradient_loss(
    pred: torch.Tensor, target: torch.Tensor, tolerance: torch.Tensor | float, alpha: float = 1.0
) -> torch.Tensor:
    """``gradient_loss`` with a tolerance band on the gradient differences.

    The difference of two neighbouring pixels carries sqrt(2) x their noise, so differences of
    image-gradient magnitudes within ``sqrt(2) * tolerance`` cost nothing. Noise in the target
    inflates ``|grad target|`` everywhere, so the plain loss rewards predictions that grow
    texture; the band weakens that pull. With tolerance 0 this is ``gradient_loss``.
    """
    band = 2**0.5 * _per_sample(tolerance, pred)
    pdx, pdy = image_gradients(pred.float())
    tdx, tdy = image_gradients(target.float())
    return sum(
        torch.mean(((p - t).abs() - band).clamp_min(0) ** alpha)
        for p, t in ((pdx, tdx), (pdy, tdy))
    )
