"""The documentation site builds with `mkdocs build --strict`: no broken link, no missing page."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_docs_build_strict(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install -e '.[docs]')")
    pytest.importorskip("material", reason="mkdocs-material is not installed (.[docs])")
    pytest.importorskip("mkdocstrings", reason="mkdocstrings is not installed (.[docs])")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    assert (tmp_path / "config-reference" / "index.html").is_file()
    reference = (tmp_path / "config-reference" / "index.html").read_text(encoding="utf-8")
    assert "<code>smoothing.sigma</code>" in reference  # a nested option of conf/scoring
    for page in ("api", "decisions", "deploy", "architecture"):
        assert (tmp_path / page / "index.html").is_file(), page


def test_config_reference_covers_every_option() -> None:
    """Every config file and every top-level key of it appears in the generated reference."""
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import gen_config_reference as gen
    finally:
        sys.path.pop(0)
    page = gen.render()
    conf = ROOT / "conf"
    for path in conf.rglob("*.yaml"):
        assert f"`{path.relative_to(conf).as_posix()}`" in page, path
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith((" ", "#", "-")) and ":" in line:
                key = line.split(":", 1)[0].strip("'\"")
                assert f"| `{key}" in page, f"{path}: {key}"
    header, options = gen.parse("# top\n\na: 1  # one\n# two\nb:\n  c: [x]   # three\n")
    assert header == ["top"]
    assert [(o.name, o.default, o.comment) for o in options] == [
        ("a", "1", ["one"]),
        ("b", "", ["two"]),
        ("b.c", "[x]", ["three"]),
    ]
