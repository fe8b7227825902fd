"""Every shipped config composes, and every object it describes instantiates."""

from __future__ import annotations

from pathlib import Path

import hydra
import pytest
from omegaconf import DictConfig, open_dict

from vad.data.datamodule import VideoDataModule
from vad.models.base import VADModule
from vad.tasks.instantiate import instantiate_dict

CONF = Path(__file__).resolve().parents[1] / "conf"


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml") if p.stem != "default")


@pytest.mark.parametrize("data", options("data"))
def test_data_configs_instantiate(make_cfg, data: str) -> None:
    cfg = make_cfg("train", [f"data={data}"], tiny=False)
    datamodule = hydra.utils.instantiate(cfg.data)
    assert isinstance(datamodule, VideoDataModule)
    assert Path(datamodule.layout.root).is_absolute()


@pytest.mark.parametrize("model", options("model"))
def test_model_configs_instantiate(make_cfg, model: str) -> None:
    cfg = make_cfg("train", [f"model={model}"], tiny=False)
    module = hydra.utils.instantiate(cfg.model)
    assert isinstance(module, VADModule)
    assert module.clip_length >= 1


@pytest.mark.parametrize("trainer", options("trainer"))
def test_trainer_configs(make_cfg, trainer: str) -> None:
    cfg = make_cfg("train", [f"trainer={trainer}"], tiny=False)
    assert cfg.trainer._target_ == "lightning.pytorch.trainer.Trainer"
    if cfg.trainer.accelerator == "cpu":
        hydra.utils.instantiate(cfg.trainer, logger=False)


@pytest.mark.parametrize("group", ["callbacks", "logger", "preprocess"])
def test_dict_groups_instantiate(make_cfg, group: str) -> None:
    for option in options(group):
        cfg = make_cfg("train", [f"{group}={option}"], tiny=False)
        objects = instantiate_dict(cfg.get(group), group)
        expected = [
            k
            for k, v in (cfg.get(group) or {}).items()
            if isinstance(v, DictConfig) and "_target_" in v
        ]
        assert len(objects) == len(expected)


@pytest.mark.parametrize("option", options("debug"))
def test_debug_configs_compose(make_cfg, option: str) -> None:
    cfg = make_cfg("train", [f"debug={option}"], tiny=False)
    assert cfg.trainer.max_epochs >= 1


@pytest.mark.parametrize("option", options("experiment"))
def test_experiment_configs_compose(make_cfg, option: str) -> None:
    cfg = make_cfg("train", [f"experiment={option}"], tiny=False)
    if cfg.data.image_size == "native":  # read from the videos (tests/test_ped1.py); none here
        with open_dict(cfg):
            cfg.data.image_size = [48, 64]
    hydra.utils.instantiate(cfg.model)
    hydra.utils.instantiate(cfg.data)


@pytest.mark.parametrize("root", ["train", "predict", "ensemble", "export"])
def test_root_configs_compose(make_cfg, root: str) -> None:
    cfg = make_cfg(root, tiny=False)
    assert cfg.task_name == root
    assert Path(cfg.paths.output_dir).is_absolute()


def test_predict_accepts_a_data_config(make_cfg) -> None:
    cfg = make_cfg("predict", ["data=ped2", "data.root=/somewhere/ped2"], tiny=False)
    assert cfg.data.root == "/somewhere/ped2"
    assert hydra.utils.instantiate(cfg.data).layout.root == Path("/somewhere/ped2")
