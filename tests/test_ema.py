"""The weight EMA callback: the average it keeps, what checkpoints hold, and resuming."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from omegaconf import open_dict
from torch import nn

from vad.callbacks.ema import CURRENT_KEY, WeightEMA
from vad.models.checkpoint import load_model
from vad.tasks.train import train


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1, bias=False)
        self.norm = nn.BatchNorm1d(1)


def test_average_follows_the_weights_with_warm_up_and_decay() -> None:
    module, ema = _Tiny(), WeightEMA(decay=0.5)
    ema.on_fit_start(None, module)
    with torch.no_grad():
        module.linear.weight.fill_(1.0)
    ema.on_train_batch_end(None, module)  # step 0: decay min(0.5, 1/10) = 0.1
    start = ema.average["linear.weight"]
    assert torch.allclose(start, torch.full_like(start, 0.9), atol=0.2)  # 0.1 * w0 + 0.9 * 1
    for _ in range(30):
        ema.on_train_batch_end(None, module)
    assert torch.allclose(ema.average["linear.weight"], torch.ones(1, 2), atol=1e-6)
    trainer = SimpleNamespace(sanity_checking=False)
    with torch.no_grad():
        module.linear.weight.fill_(3.0)
    ema.on_validation_epoch_start(trainer, module)  # validation runs with the average
    assert torch.allclose(module.linear.weight, torch.ones(1, 2))
    ema.on_validation_end(trainer, module)
    assert torch.allclose(module.linear.weight, torch.full((1, 2), 3.0))


def test_bad_decay_is_refused() -> None:
    with pytest.raises(ValueError, match="decay"):
        WeightEMA(decay=1.0)


@pytest.mark.slow
def test_checkpoints_hold_the_average_and_training_resumes(make_cfg, tmp_path: Path) -> None:
    ema = ["callbacks=[default,ema]", "callbacks.ema.decay=0.9", "test=false"]
    cfg = make_cfg("train", ema)
    train(cfg)
    last = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    saved = torch.load(last, weights_only=False)
    current = saved[CURRENT_KEY]
    name = next(k for k in current if k.endswith("weight") and current[k].ndim == 4)
    assert not torch.equal(saved["state_dict"][name], current[name])  # averaged != raw
    assert not any(k.startswith("fitted.") for k in current)
    model, _ = load_model(last)
    # exact: the weights are loaded unchanged; scoring uses the average
    assert torch.equal(model.state_dict()[name], saved["state_dict"][name])
    resumed = make_cfg("train", [*ema, "trainer.max_epochs=2", f"ckpt_path={last}"])
    with open_dict(resumed):
        resumed.paths.output_dir = str(tmp_path / "resumed")
    train(resumed)
    final = torch.load(tmp_path / "resumed" / "checkpoints" / "last.ckpt", weights_only=False)
    assert final["epoch"] == 1 and CURRENT_KEY in final
