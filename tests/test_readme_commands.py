"""The commands the README and the docs show name configs that exist, and the README's compose.

Every shell block line that runs train.py / predict.py / ensemble.py is checked: each config group
choice it names (`model=`, `data=`, `experiment=`, `'callbacks=[default,ema]'`, `hydra/launcher=`,
sweeps `a,b`) must be a file under conf/. The README's lines are also composed with Hydra, as the
script would compose them (no run), so a misspelt option key fails too.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "conf"
SCRIPTS = {
    "train.py": "train",
    "predict.py": "predict",
    "ensemble.py": "ensemble",
    "export.py": "export",
}
FENCE = re.compile(r"^```(bash|sh|shell|console)?\s*$")


def shell_lines(markdown: str) -> list[str]:
    """Command lines of the shell code blocks, continuation lines joined, comments dropped."""
    lines, block, fenced, shell = [], "", False, False
    for raw in markdown.splitlines():
        if raw.lstrip().startswith("```"):
            fenced = not fenced
            shell = fenced and bool(FENCE.match(raw.strip()))
            continue
        if not shell:
            continue
        block += raw.rstrip()
        if block.endswith("\\"):
            block = block[:-1] + " "
            continue
        lines.append(block)
        block = ""
    return lines


def script_commands(markdown: str) -> list[tuple[str, list[str]]]:
    """(script, its Hydra arguments) of each line that runs one of the entry scripts."""
    found = []
    for line in shell_lines(markdown):
        words = shlex.split(line, comments=True)
        for i, word in enumerate(words):
            if Path(word).name in SCRIPTS and (i == 0 or words[i - 1].endswith("python")):
                args = [w for w in words[i + 1 :] if w not in ("-m", "--multirun")]
                found.append((Path(word).name, args))
                break
    return found


def groups() -> set[str]:
    """Every config group: a folder of conf/ holding YAML files (`hydra/launcher` included)."""
    return {
        p.relative_to(CONF).as_posix()
        for p in CONF.rglob("*")
        if p.is_dir() and any(p.glob("*.yaml"))
    }


def choices(value: str) -> list[str]:
    """The choices an override value names: `a`, `a,b` (a sweep) or `[a,b]` (a list)."""
    return [c.strip() for c in value.strip("[]").split(",") if c.strip()]


def missing_choices(args: list[str]) -> list[str]:
    """`group=choice` overrides whose conf/<group>/<choice>.yaml does not exist."""
    known, bad = groups(), []
    for arg in args:
        key, sep, value = arg.partition("=")
        key = key.lstrip("+~")
        if not sep or key not in known or value in ("null", "..."):
            continue
        for choice in choices(value):
            if "<" not in choice and not (CONF / key / f"{choice}.yaml").is_file():
                bad.append(f"{key}={choice}")
    return bad


def composable(args: list[str]) -> list[str]:
    """The overrides with placeholders filled and a sweep reduced to its first value."""
    out = []
    for arg in args:
        arg = re.sub(r"<[^>]*>", "run", arg)
        key, sep, value = arg.partition("=")
        if sep and not value.startswith("[") and "," in value and "'" not in value:
            value = value.split(",")[0]
        out.append(f"{key}{sep}{value}")
    return out


def readme_commands() -> list[tuple[str, list[str]]]:
    return script_commands((ROOT / "README.md").read_text(encoding="utf-8"))


def test_readme_shows_the_three_tasks() -> None:
    names = {script for script, _ in readme_commands()}
    assert names == set(SCRIPTS), names


@pytest.mark.parametrize(
    "page",
    ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*.md"))],
)
def test_named_configs_exist(page: str) -> None:
    for script, args in script_commands((ROOT / page).read_text(encoding="utf-8")):
        assert not missing_choices(args), f"{page}: {script} {' '.join(args)}"


def test_readme_commands_compose() -> None:
    """Hydra composes each README command as its script would: every key and choice is real."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    for script, args in readme_commands():
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            compose(config_name=SCRIPTS[script], overrides=composable(args))
    GlobalHydra.instance().clear()


def test_the_checks_catch_a_bad_command() -> None:
    text = "```python\nx = 1\n```\n\n```bash\npython train.py model=nosuch \\\n"
    text += "  'callbacks=[default,nosuch_cb]' data=ped2\n```\n"
    [(script, args)] = script_commands(text)
    assert script == "train.py" and args[-1] == "data=ped2"
    assert missing_choices(args) == ["model=nosuch", "callbacks=nosuch_cb"]
    assert missing_choices(["experiment=ped2_unet", "seed=1,2", "hydra/launcher=joblib"]) == []
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import ConfigCompositionException

    GlobalHydra.instance().clear()
    with (
        initialize_config_dir(config_dir=str(CONF), version_base="1.3"),
        pytest.raises(ConfigCompositionException),
    ):
        compose(config_name="train", overrides=["data.no_such_key=1"])
    GlobalHydra.instance().clear()
