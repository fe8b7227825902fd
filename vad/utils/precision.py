"""The numeric precision a run can afford on its machine: bfloat16 only where the CPU has it.

Without native bfloat16 units (AVX512-BF16 or AMX), torch emulates bf16 on a CPU, many times
slower than fp32 (the joint preset on an AVX2-only AMD EPYC: ~219 steps in its first ~10 minutes
in bf16-mixed, ~3 steps/s in fp32). A preset that asks for bf16 for speed then runs in 32-true
there, said in one line; on a GPU the trainer's precision is kept.
"""

from __future__ import annotations

import torch
from omegaconf import DictConfig, open_dict

from vad.utils.console import console

BF16 = ("bf16-mixed", "bf16-true", "bf16")


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX tiles)."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def runs_on_cpu(accelerator: str | None) -> bool:
    """Whether a trainer with this ``accelerator`` runs on the CPU."""
    name = str(accelerator or "auto")
    return name == "cpu" or (name == "auto" and not torch.cuda.is_available())


def affordable_precision(cfg: DictConfig) -> None:
    """Set ``cfg.trainer.precision`` to 32-true where it asks for bf16 on a CPU without native
    bf16 (in place, before the run's config is written), said in one line."""
    trainer = cfg.get("trainer")
    if trainer is None or str(trainer.get("precision")) not in BF16:
        return
    if not runs_on_cpu(trainer.get("accelerator")) or cpu_has_bf16():
        return
    console.print(
        f"trainer.precision={trainer.precision}: this CPU has no native bfloat16 (AVX512-BF16 or "
        "AMX), where it is many times slower than fp32: running in 32-true"
    )
    with open_dict(trainer):
        trainer.precision = "32-true"
