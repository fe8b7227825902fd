"""MkDocs hook: pages generated at every build (the configuration reference from conf/, and
ARCHITECTURE.md from the repository root), so they cannot drift from their sources."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

PAGE = "config-reference.md"
ROOT = Path(__file__).resolve().parent.parent


def _render() -> str:
    """`render()` of docs/gen_config_reference.py, loaded by path (docs/ is not a package)."""
    path = Path(__file__).with_name("gen_config_reference.py")
    spec = importlib.util.spec_from_file_location("gen_config_reference", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.render()


def on_files(files: Files, config: Any) -> Files:
    """Add the generated page to the site's files before the navigation is built."""
    files.append(File.generated(config, PAGE, content=_render()))
    # ARCHITECTURE.md stays at the repository root (its home for code readers); the site shows it
    architecture = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    files.append(File.generated(config, "architecture.md", content=architecture))
    return files
