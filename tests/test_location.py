"""Per-location normalisation: an error where errors are usual scores below one elsewhere."""

from __future__ import annotations

import torch

from vad.models import location
from vad.models.base import Prediction
from vad.models.unet import UNetModule


def _module() -> UNetModule:
    optimizer = lambda params: torch.optim.Adam(params, lr=1e-3)  # noqa: E731
    return UNetModule((16, 16), 1, optimizer, history=4, base_width=4, depth=2, patch_size=4)


def _prediction(error_at: tuple[int, int] | None, noise: float, seed: int) -> Prediction:
    """One frame whose prediction is off by ``noise`` everywhere, and by 1 in a 4x4 block."""
    generator = torch.Generator().manual_seed(seed)
    target = torch.zeros(1, 1, 16, 16)
    pred = target + noise * torch.randn(1, 1, 16, 16, generator=generator)
    if error_at is not None:
        r, c = error_at
        pred[..., r : r + 4, c : c + 4] += 1.0
    return Prediction(pred, target, (4,), video=["v"], frame_ids=torch.tensor([[7]]))


def test_grid_of_the_location_moments() -> None:
    assert location.grid_shape((16, 16), 4) == (7, 7)
    assert location.grid_shape((64, 48), 16) == (7, 5)
    assert _module().fitted.mean(location.MOMENT).shape == (7, 7)


def test_an_error_at_an_always_hard_place_scores_below_one_at_a_quiet_place() -> None:
    module = _module()
    assert location.COLUMN not in module.frame_scores(_prediction(None, 0.01, 0))  # not fitted
    module.fitted.reset()
    for seed in range(20):  # validation: the top-left block always errs
        module.map_scoring.update(_prediction((0, 0), 0.01, seed))
    module.fitted.finish()
    hard = module.frame_scores(_prediction((0, 0), 0.01, 100))
    quiet = module.frame_scores(_prediction((8, 8), 0.01, 100))
    assert torch.allclose(hard["patch_max"], quiet["patch_max"], rtol=0.05)  # same raw error
    assert quiet[location.COLUMN] > hard[location.COLUMN] + 3
