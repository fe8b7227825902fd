"""The configs are found the same way in a source checkout, an editable install and a wheel; the
built wheel carries them and its console scripts train and predict from an empty folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from vad.errors import VADError
from vad.utils.configs import MARKER, config_dir

ROOT = Path(__file__).resolve().parents[1]
#: what a wheel is built from (the rest of the checkout is not part of the package)
SOURCES = ("pyproject.toml", "setup.py", "README.md", "vad", "conf")
PIP_WHEEL = (sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation")
PIP_WHEEL += ("--no-index",)  # no network: the build backend comes from this environment
#: the demo experiment, shrunk to seconds
TINY_DEMO = [
    "experiment=demo",
    "data.image_size=[32,32]",
    "data.layout.n_train=3",
    "data.layout.n_test=2",
    "data.layout.n_frames=24",
    "model.base_width=4",
    "model.depth=2",
    "trainer.max_epochs=1",
    "+trainer.limit_train_batches=2",
    "trainer.enable_progress_bar=false",
    "callbacks.rich_progress_bar=null",
    "scoring.report.enabled=false",
]


def test_a_checkout_or_editable_install_reads_the_top_level_conf() -> None:
    assert config_dir() == ROOT / "conf"


def test_the_package_copy_comes_first(tmp_path: Path) -> None:
    package = tmp_path / "site" / "vad"
    (package / "conf").mkdir(parents=True)
    (package / "conf" / MARKER).write_text("task_name: train\n")
    (tmp_path / "site" / "conf").mkdir()
    (tmp_path / "site" / "conf" / MARKER).write_text("task_name: train\n")
    assert config_dir(package) == package / "conf"
    shutil.rmtree(package / "conf")
    assert config_dir(package) == tmp_path / "site" / "conf"


def test_no_config_folder_is_one_error_naming_both_places(tmp_path: Path) -> None:
    with pytest.raises(VADError, match=r"neither .* nor .* holds train\.yaml"):
        config_dir(tmp_path / "vad")


def build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy(ROOT / name, source / name)
    dist = tmp_path / "dist"
    subprocess.run(
        [*PIP_WHEEL, "-w", str(dist), str(source)],
        check=True,
        capture_output=True,
    )
    [wheel] = dist.glob("vad-*.whl")
    return wheel


def fresh_environment(tmp_path: Path, wheel: Path) -> Path:
    """A virtual environment with the wheel installed and, since there is no network, the dev
    environment's packages (not its editable vad) on its path."""
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = env / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "dev_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    return env


@pytest.mark.slow
def test_the_wheel_carries_the_configs_and_its_scripts_run(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n for n in names if n.startswith("vad/conf/") and n.endswith(".yaml")}
    in_repo = {
        f"vad/conf/{p.relative_to(ROOT / 'conf').as_posix()}" for p in ROOT.glob("conf/**/*.yaml")
    }
    assert shipped == in_repo
    env = fresh_environment(tmp_path, wheel)
    work = tmp_path / "empty"
    work.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VAD_", "PYTHONPATH"))}
    where = subprocess.run(
        [
            str(env / "bin" / "python"),
            "-c",
            "from vad.utils.configs import config_dir as c; print(c())",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=work,
        env=clean,
    ).stdout.strip()
    assert Path(where).parts[-2:] == ("vad", "conf") and "site-packages" in where
    for script in ("vad-train", "vad-predict", "vad-ensemble", "vad-export", "vad-corrupt"):
        assert (env / "bin" / script).is_file(), script
    train = [str(env / "bin" / "vad-train"), *TINY_DEMO, "hydra.run.dir=outputs/train"]
    done = subprocess.run(train, capture_output=True, text=True, cwd=work, env=clean)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (work / "outputs" / "train" / "checkpoints" / "best.ckpt").is_file()
    predict = [str(env / "bin" / "vad-predict"), "ckpt_path=outputs/train"]
    done = subprocess.run(
        [*predict, "hydra.run.dir=outputs/predict"],
        capture_output=True,
        text=True,
        cwd=work,
        env=clean,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (work / "outputs" / "predict" / "scores.csv").is_file()
    assert (work / "outputs" / "predict" / "metrics.json").is_file()


def test_a_users_config_folder_joins_the_search_path(tmp_path: Path) -> None:
    """``hydra.searchpath=[file://<folder>]`` adds a user's own experiment to the shipped ones."""
    mine = tmp_path / "my_conf" / "experiment"
    mine.mkdir(parents=True)
    (mine / "my_camera.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /data: synthetic\ntags: [my_camera]\n"
    )
    search = f"hydra.searchpath=[file://{tmp_path / 'my_conf'}]"
    command = [
        sys.executable,
        str(ROOT / "train.py"),
        search,
        "experiment=my_camera",
        "--cfg",
        "job",
    ]
    shown = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=True)
    assert "- my_camera" in shown.stdout and "SyntheticLayout" in shown.stdout
