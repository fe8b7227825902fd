"""Train one model; optionally score the test videos with the best checkpoint."""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import torch
from lightning.pytorch.callbacks import LearningRateMonitor
from omegaconf import DictConfig, OmegaConf, open_dict

from vad.callbacks.label_free_validation import check_monitors
from vad.errors import TrainingError
from vad.io.atomic import write_json
from vad.models.checkpoint import CheckpointMetadata, load_model
from vad.scoring.options import ScoringOptions
from vad.tasks.checks import check_data_settings_used
from vad.tasks.instantiate import build, command_line_keys, instantiate_datamodule, instantiate_dict
from vad.tasks.printing import console, print_config_tree
from vad.tasks.score import fit_stats_after_training, score_videos
from vad.tasks.speed import TrainSpeed
from vad.tasks.tracking import log_test_results, run_loggers
from vad.utils.console import console_copied_to, quiet_library_noise
from vad.utils.precision import affordable_precision

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> float | None:
    """Fit ``cfg.model`` on ``cfg.data``; returns ``cfg.optimized_metric`` for sweeps."""
    quiet_library_noise()
    with console_copied_to(Path(cfg.paths.output_dir) / f"{cfg.task_name}.log"):
        return _train(cfg)


def _train(cfg: DictConfig) -> float | None:
    affordable_precision(cfg)
    output_dir = Path(cfg.paths.output_dir)
    print_config_tree(cfg, output_dir / "config_tree.yaml")
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)
    with run_loggers(cfg) as loggers:
        metrics = _fit_and_score(cfg, loggers, output_dir)
    value = metrics.get(cfg.get("optimized_metric") or "")
    return float(value) if value is not None else None


def _fit_and_score(cfg: DictConfig, loggers: list[Any], output_dir: Path) -> dict[str, Any]:
    scoring = ScoringOptions.from_config(cfg.scoring)  # checked before any long work
    datamodule = instantiate_datamodule(cfg.data, cfg.get("preprocess"))
    model = build(cfg.model)
    scoring = scoring.for_model(model.contract)
    datamodule.configure_clips(model.clip_length, model.modalities, model.pseudo_anomaly)
    check_data_settings_used(command_line_keys(), model)
    trainer_cfg = trainer_for(model, cfg.trainer)
    console.print(settings_summary(cfg, model, output_dir), soft_wrap=True)
    callbacks = instantiate_dict(cfg.get("callbacks"), "callback")
    check_monitors(callbacks)
    if not loggers:  # nothing to log learning rates to (logger=none)
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    speed = TrainSpeed()
    callbacks += [CheckpointMetadata(cfg.model, cfg.data, cfg.get("scoring")), speed]
    trainer: L.Trainer = hydra.utils.instantiate(
        trainer_cfg, callbacks=callbacks, logger=loggers or False
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        if model.contract.one_pass:  # no optimiser, by its contract: nothing to warn of
            warnings.filterwarnings("ignore", message=r".*configure_optimizers` returned `None`")
        trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    metrics = _train_metrics(trainer, speed, time.perf_counter() - start)
    if trainer.global_rank != 0:  # other DDP ranks end here; rank 0 scores on one device
        return metrics
    scoring_trainer = cfg.trainer
    if trainer.world_size > 1:
        leave_process_group()
        scoring_trainer = single_device(cfg.trainer)
    if trainer.checkpoint_callback is not None:
        saved = _best_checkpoint(trainer)
        fit_stats_after_training(saved, datamodule, scoring_trainer, output_dir, scoring)
    if cfg.get("test"):
        best = _best_checkpoint(trainer)
        console.print(f"scoring the test videos with {best}")
        trained, _ = load_model(best)
        test = score_videos(trained, datamodule, scoring_trainer, output_dir, scoring, loggers)
        metrics.update({f"test/{k}": v for k, v in test.items() if not isinstance(v, dict)})
        log_test_results(loggers, test, output_dir)
    write_json(metrics, output_dir / "train_metrics.json")
    return metrics


def trainer_for(model: Any, trainer_cfg: DictConfig) -> DictConfig:
    """The trainer config the model's contract asks for: a one-pass fit runs one epoch of one
    batch (its ``on_fit_start`` collects the training videos); a step budget validates its
    last step (``validated_last_step``)."""
    if not model.contract.one_pass:
        return validated_last_step(trainer_cfg)
    one = trainer_cfg.copy()
    with open_dict(one):
        one.max_epochs, one.max_steps, one.limit_train_batches = 1, -1, 1
    return one


def validated_last_step(trainer_cfg: DictConfig) -> DictConfig:
    """With a step budget validated every N steps across epochs (``max_steps``,
    ``val_check_interval: N``, ``check_val_every_n_epoch: null``), an N that does not divide
    the budget would leave its last steps unvalidated (no best checkpoint, no validation
    statistics when the budget is under N): it becomes the largest divisor of the budget not
    above N, said in one line."""
    steps, every = trainer_cfg.get("max_steps", -1), trainer_cfg.get("val_check_interval")
    by_steps = trainer_cfg.get("check_val_every_n_epoch") is None and isinstance(every, int)
    if not by_steps or steps in (None, -1) or steps % every == 0:
        return trainer_cfg
    divisor = max(d for d in range(1, min(every, steps) + 1) if steps % d == 0)
    console.print(
        f"trainer.val_check_interval={every} does not divide trainer.max_steps={steps}: "
        f"validating every {divisor} steps, so that the last step is validated"
    )
    adjusted = trainer_cfg.copy()
    with open_dict(adjusted):
        adjusted.val_check_interval = divisor
    return adjusted


def settings_summary(cfg: DictConfig, model: Any, output_dir: Path) -> str:
    """One line: what is trained on what, for how long, where, and where the outputs go."""
    data, trainer = cfg.data, cfg.trainer
    size = "x".join(str(v) for v in data.image_size)
    params = sum(p.numel() for p in model.parameters())
    source = data.get("root") or data.layout.get("_target_", "").rsplit(".", 1)[-1]
    if model.contract.one_pass:
        budget = "fitted in one pass over the training videos"
    elif trainer.get("max_steps", -1) not in (None, -1):
        samples = int(trainer.max_steps) * int(data.batch_size)
        budget = f"{trainer.max_steps} steps of {data.batch_size} clips ({samples:,} samples)"
        if trainer.get("max_epochs", -1) not in (None, -1):
            budget += f", at most {trainer.max_epochs} epochs"
    else:
        budget = f"up to {trainer.max_epochs} epochs"
    return (
        f"train {type(model).__name__} ({params / 1e3:.1f}k parameters) on {source} at {size}x"
        f"{data.channels}, {budget} on {trainer.accelerator}"
        f" ({trainer.precision}) -> {output_dir}"
    )


def single_device(trainer_cfg: DictConfig) -> DictConfig:
    """``trainer_cfg`` on one device of its accelerator (scoring after a multi-device fit), in a
    plain environment (not the cluster's multi-task one)."""
    single = OmegaConf.create(OmegaConf.to_container(trainer_cfg, resolve=True))
    single.devices, single.num_nodes, single.strategy = 1, 1, "auto"
    single.plugins = [{"_target_": "lightning.fabric.plugins.environments.LightningEnvironment"}]
    return single


def leave_process_group() -> None:
    """End this process's part in the training process group, so that a later one-device
    trainer does not wait for ranks that have finished."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def _train_metrics(trainer: L.Trainer, speed: TrainSpeed, seconds: float) -> dict[str, Any]:
    metrics: dict[str, Any] = {k: float(v) for k, v in trainer.callback_metrics.items()}
    metrics.update(
        {
            "train_minutes": seconds / 60,
            "epochs": trainer.current_epoch,
            "steps": trainer.global_step,
            "train_samples": speed.samples,
            "train_samples_per_s": speed.samples_per_second,
        }
    )
    console.print(
        f"trained {trainer.current_epoch} epochs, {trainer.global_step} steps in "
        f"{seconds / 60:.1f} min ({speed.samples_per_second:.1f} train samples/s)"
    )
    return metrics


def _best_checkpoint(trainer: L.Trainer) -> str:
    callback = trainer.checkpoint_callback
    if callback is None:
        raise RuntimeError("test=true needs a ModelCheckpoint callback to score the trained model")
    path = callback.best_model_path or callback.last_model_path
    own = Path(callback.dirpath or "").resolve()
    if not path or not Path(path).is_file() or Path(path).resolve().parent != own:
        raise TrainingError(
            f"this run saved no checkpoint in {own} (trained {trainer.current_epoch} epochs, "
            f"{trainer.global_step} steps): nothing to score; train at least one epoch "
            "(trainer.max_epochs, trainer.limit_train_batches)"
        )
    return path
