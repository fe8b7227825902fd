"""One source of defaults: where a shipped config sets a value that its ``_target_`` also
defaults in code, the two are equal, so a Python user and a command-line user get one model."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest
import yaml

CONF = Path(__file__).resolve().parents[1] / "conf"
TARGETED = [*sorted((CONF / "model").glob("*.yaml")), CONF / "data" / "default.yaml"]


def _defaults(target: str) -> dict[str, Any]:
    """Keyword defaults of the target class's ``__init__`` along its MRO (subclass wins)."""
    module, name = target.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if "__init__" in vars(klass):
            for key, p in inspect.signature(klass.__init__).parameters.items():
                if p.default is not inspect.Parameter.empty:
                    out[key] = list(p.default) if isinstance(p.default, tuple) else p.default
    return out


@pytest.mark.parametrize("path", TARGETED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_config_value_equals_its_code_default(path: Path) -> None:
    config = yaml.safe_load(path.read_text())
    defaults = _defaults(config["_target_"])
    drift = {
        key: (value, defaults[key])
        for key, value in config.items()
        if key in defaults
        and defaults[key] is not None  # None: the code takes the setting from the config
        and not (isinstance(value, str) and "${" in value)  # interpolations resolve elsewhere
        and value != defaults[key]
    }
    assert not drift, f"{path}: config value != code default (config, code): {drift}"


def _parameters(target: str) -> set[str]:
    module, name = target.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    return {
        key
        for klass in cls.__mro__
        if "__init__" in vars(klass) and klass is not object
        for key, p in inspect.signature(klass.__init__).parameters.items()
        if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }


@pytest.mark.parametrize("path", TARGETED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_config_key_is_read_by_its_target(path: Path) -> None:
    config = yaml.safe_load(path.read_text())
    special = {"_target_", "_partial_", "_recursive_", "_convert_", "defaults"}
    dead = set(config) - special - _parameters(config["_target_"])
    assert not dead, f"{path}: keys its _target_ {config['_target_']} does not take: {dead}"


@pytest.mark.parametrize("path", sorted((CONF / "data").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_dataset_key_is_read_by_the_datamodule(path: Path) -> None:
    target = yaml.safe_load((CONF / "data" / "default.yaml").read_text())["_target_"]
    config = yaml.safe_load(path.read_text()) or {}
    dead = set(config) - {"_target_", "defaults"} - _parameters(config.get("_target_", target))
    assert not dead, f"{path}: keys the datamodule does not take: {dead}"
