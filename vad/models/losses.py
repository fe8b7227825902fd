"""Losses shared by the frame-prediction models (FFP, Liu et al., CVPR 2018, Sec. 3.2-3.4)."""

from __future__ import annotations

import torch


def intensity_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L2 distance between the predicted and true frame (mean over all elements)."""
    return torch.mean((pred - target) ** 2)


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
