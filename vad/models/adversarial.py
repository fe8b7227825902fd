"""The adversarial training step of FFP (Liu et al., CVPR 2018): a PatchGAN LSGAN term on the
predicted frames, one generator then one discriminator update (manual optimisation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from vad.models.losses import lsgan_discriminator_loss, lsgan_generator_loss

if TYPE_CHECKING:
    import lightning as L

    from vad.models.prediction import Prediction


def adversarial_step(
    module: L.LightningModule, out: Prediction, losses: dict[str, torch.Tensor]
) -> None:
    """One generator then one discriminator update (manual optimisation), as in FFP, of a
    ``VADModule`` with a ``discriminator`` and ``adv_weight``."""
    opt_g, opt_d = module.optimizers()
    pred, target = _as_images(out.pred), _as_images(out.target)
    losses["adv_g"] = lsgan_generator_loss(module.discriminator(pred))
    losses["loss"] = losses["loss"] + module.adv_weight * losses["adv_g"]
    module._check_finite(losses["loss"])
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
    module._log_losses("train", losses)


def _as_images(x: torch.Tensor) -> torch.Tensor:
    """Flatten a clip (B, T, C, H, W) to images (B*T, C, H, W) for the discriminator."""
    return x.flatten(0, 1) if x.ndim == 5 else x
