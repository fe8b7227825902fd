"""Where a training step's time goes, for each network model at its preset.

    python bench/train_profile.py [--models unet stae roadmap joint] [--steps 20] [--bf16]

Each preset (``experiment=<model> data=synthetic``: 64x64 grey, as on Ped1/Ped2) trains
``--steps`` steps by hand with the preset's loader (shuffled clips or one clip per video, batch
8) on the built-in synthetic footage, timing each stage of a step: loading the batch
(``DataLoader``), converting it (``on_after_batch_transfer``: uint8 to float), the forward pass
with the losses, the backward pass and the optimiser step. Appends one row per model to
bench/results.md with the mean milliseconds of each stage and its share. ``--bf16`` runs the
forward pass and the losses under CPU autocast to bfloat16, as the presets' ``bf16-mixed`` does
(on a CPU with AVX512-BF16 or AMX units; without them bf16 is emulated and slow). The weights
take the model's memory layout (``VADModule.memory_format``, channels-last for 2-D models) as
the trainer's ``setup`` gives them.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402

SECTION = "Training step profile (`bench/train_profile.py`)"
HEADER = (
    "**Protocol:** no score is evaluated (speed only). Mean milliseconds per step (share of the "
    "step) on 2 CPU threads, the preset's batch of 8 clips at 64x64 grey, after 3 warm-up "
    "steps.\n\n"
    "| date | model | load | convert | forward + losses | backward | optimiser | step ms | "
    "command |\n|---|---|---|---|---|---|---|---|---|\n"
)
COMMAND = "`python bench/train_profile.py`"
STAGES = ("load", "convert", "forward", "backward", "optimiser")


def preset(name: str, data_dir: str):
    """The preset's model, its optimiser and training loader on the synthetic footage."""
    import hydra
    from hydra import compose, initialize_config_dir

    from vad.tasks.instantiate import instantiate_datamodule

    overrides = [f"experiment={name}", "data=synthetic", f"paths.data_dir={data_dir}"]
    overrides += [f"paths.cache_dir={data_dir}/cache", "hydra.run.dir=unused"]
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides, return_hydra_config=True)
    from hydra.core.hydra_config import HydraConfig

    HydraConfig().set_config(cfg)
    model = hydra.utils.instantiate(cfg.model)
    datamodule = instantiate_datamodule(cfg.data)
    datamodule.configure_clips(model.clip_length, model.modalities, model.pseudo_anomaly)
    if hasattr(model, "flow_scale"):
        model.flow_scale.fill_(1.0)
    model.setup("fit")  # the model's memory layout, as the trainer sets it
    optimizer = model.optimizer_factory(params=model.parameters())
    return model, optimizer, datamodule.train_dataloader()


def profile(
    name: str, steps: int, data_dir: str, bf16: bool = False
) -> tuple[dict[str, float], bool]:
    """Mean seconds of each stage over ``steps`` steps (after 3 warm-up steps), the forward pass
    under bfloat16 autocast with ``bf16``; and whether the weights were channels-last."""
    model, optimizer, loader = preset(name, data_dir)
    autocast = (
        (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext
    )
    model.train()
    totals = dict.fromkeys(STAGES, 0.0)
    batches = iter(loader)
    for step in range(steps + 3):
        marks = [time.perf_counter()]
        try:
            batch = next(batches)
        except StopIteration:
            batches = iter(loader)
            batch = next(batches)
        marks.append(time.perf_counter())
        batch = model.on_after_batch_transfer(batch, 0)
        marks.append(time.perf_counter())
        with autocast():
            loss = model.losses(batch, model(batch))["loss"]
        marks.append(time.perf_counter())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        marks.append(time.perf_counter())
        optimizer.step()
        marks.append(time.perf_counter())
        if step >= 3:
            for stage, start, end in zip(STAGES, marks[:-1], marks[1:], strict=True):
                totals[stage] += end - start
    channels_last = model.memory_format == torch.channels_last
    return {stage: seconds / steps for stage, seconds in totals.items()}, channels_last


def label(name: str, bf16: bool, channels_last: bool) -> str:
    """The row's model cell: the name, with its precision and a channels-last layout."""
    notes = ["bf16"] * bf16 + ["channels-last"] * channels_last
    return f"{name} ({', '.join(notes)})" if notes else name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["unet", "stae", "roadmap", "joint"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--bf16", action="store_true", help="forward pass in bfloat16 autocast")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    rows = []
    with tempfile.TemporaryDirectory() as data_dir:
        for name in args.models:
            means, channels_last = profile(name, args.steps, data_dir, args.bf16)
            total = sum(means.values())
            cells = [f"{1000 * means[s]:.1f} ({100 * means[s] / total:.0f}%)" for s in STAGES]
            row = (
                f"| {time.strftime('%Y-%m-%d')} | {label(name, args.bf16, channels_last)} | "
                f"{' | '.join(cells)} | {1000 * total:.1f} | "
                f"{COMMAND[:-1] + ' --bf16`' if args.bf16 else COMMAND} |\n"
            )
            print(row, end="", flush=True)
            rows.append(row)
    if not args.no_record:
        record(SECTION, HEADER, "".join(rows))


if __name__ == "__main__":
    main()
