"""The adversarial training step of FFP (Liu et al., CVPR 2018): a PatchGAN LSGAN term on the
predicted frames, one generator then one discriminator update (manual optimisation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from vad.models.components.discriminator import PatchDiscriminator
from vad.models.losses import lsgan_discriminator_loss, lsgan_generator_loss
from vad.models.step_logging import check_finite, log_losses

if TYPE_CHECKING:
    import lightning as L

    from vad.models.prediction import Prediction


def adversarial_settings(
    cfg: dict | None, channels: int
) -> tuple[float, float, PatchDiscriminator | None]:
    """``model.adversarial`` ``{"weight", "lr", "width", "layers"}`` -> (weight, discriminator
    learning rate, the PatchGAN discriminator or None when the weight is 0)."""
    cfg = dict(cfg or {})
    weight, lr = float(cfg.get("weight", 0.0)), float(cfg.get("lr", 2e-5))
    if weight <= 0:
        return weight, lr, None
    return weight, lr, PatchDiscriminator(channels, cfg.get("width", 32), cfg.get("layers", 3))


def adversarial_step(
    module: L.LightningModule, out: Prediction, losses: dict[str, torch.Tensor]
) -> None:
    """One generator then one discriminator update (manual optimisation), as in FFP, of a
    ``VADModule`` with a ``discriminator`` and ``adv_weight``."""
    opt_g, opt_d = module.optimizers()
    pred, target = _as_images(out.pred), _as_images(out.target)
    losses["adv_g"] = lsgan_generator_loss(module.discriminator(pred))
    losses["loss"] = losses["loss"] + module.adv_weight * losses["adv_g"]
    check_finite(module, losses["loss"])
    module.toggle_optimizer(opt_g)
    opt_g.zero_grad()
    module.manual_backward(losses["loss"])
    opt_g.step()
    module.untoggle_optimizer(opt_g)
    module.toggle_optimizer(opt_d)
    losses["adv_d"] = lsgan_discriminator_loss(
        module.discriminator(target), module.discriminator(pred.detach())
    )
    opt_d.zero_grad()
    module.manual_backward(losses["adv_d"])
    opt_d.step()
    module.untoggle_optimizer(opt_d)
    schedulers = module.lr_schedulers()
    if schedulers is not None:
        (schedulers[0] if isinstance(schedulers, list) else schedulers).step()
    log_losses(module, "train", losses)


def _as_images(x: torch.Tensor) -> torch.Tensor:
    """Flatten a clip (B, T, C, H, W) to images (B*T, C, H, W) for the discriminator."""
    return x.flatten(0, 1) if x.ndim == 5 else x
