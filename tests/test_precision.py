"""bf16 presets on CPUs without native bfloat16 run in fp32, said in one line."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from vad.utils import precision


def _cfg(value: str, accelerator: str = "cpu"):
    return OmegaConf.create({"trainer": {"precision": value, "accelerator": accelerator}})


@pytest.mark.parametrize(
    ("value", "accelerator", "native", "expected"),
    [
        ("bf16-mixed", "cpu", False, "32-true"),  # emulated bf16: many times slower
        ("bf16-mixed", "cpu", True, "bf16-mixed"),
        ("32-true", "cpu", False, "32-true"),
        ("bf16-mixed", "gpu", False, "bf16-mixed"),  # a GPU's precision is the trainer's
    ],
)
def test_bf16_runs_in_fp32_only_on_a_cpu_without_it(
    monkeypatch, capsys, value, accelerator, native, expected
) -> None:
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: native)
    cfg = _cfg(value, accelerator)
    OmegaConf.set_struct(cfg, True)  # as Hydra hands it over
    precision.affordable_precision(cfg)
    assert cfg.trainer.precision == expected
    said = capsys.readouterr().out
    assert ("no native bfloat16" in said) == (expected != value)


def test_the_cpu_check_answers() -> None:
    assert isinstance(precision.cpu_has_bf16(), bool)
    assert precision.runs_on_cpu("cpu") and not precision.runs_on_cpu("gpu")
