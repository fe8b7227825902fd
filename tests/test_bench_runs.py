"""Benchmarks pick a model's newest run trained at today's defaults."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf, open_dict

from bench.ped2_ensemble import ROOT, at_defaults


def _run(folder: Path, overrides: list[str], change: dict | None = None) -> Path:
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    with open_dict(cfg):
        cfg.data.root = "/somewhere/else"  # where the data lay does not matter
        cfg.trainer.enable_progress_bar = False  # nor how training was displayed
        for key, value in (change or {}).items():
            OmegaConf.update(cfg, key, value)
    (folder / ".hydra").mkdir(parents=True)
    OmegaConf.save(cfg, folder / ".hydra" / "config.yaml")
    OmegaConf.save(OmegaConf.create(overrides), folder / ".hydra" / "overrides.yaml")
    return folder


def test_a_run_at_todays_defaults_is_recognised_and_a_variant_is_not(tmp_path: Path) -> None:
    experiment = ["experiment=ped2_density"]
    assert at_defaults(_run(tmp_path / "default", experiment))
    assert not at_defaults(_run(tmp_path / "k", experiment, {"model.k": 5}))
    assert not at_defaults(_run(tmp_path / "size", experiment, {"data.image_size": [64, 64]}))
    # a setting added to the configs after the run was made is not compared
    older = _run(tmp_path / "older", experiment)
    saved = OmegaConf.load(older / ".hydra" / "config.yaml")
    del saved.model["k"]
    OmegaConf.save(saved, older / ".hydra" / "config.yaml")
    assert at_defaults(older)
