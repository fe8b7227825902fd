"""The example notebook runs from top to bottom (its code cells, in order, in one namespace)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest

from tests.conftest import TINY, TINY_DATA
from tests.helpers import ROOT

NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"


@pytest.mark.slow
def test_the_quickstart_notebook_runs(tmp_path: Path, shared_dir: Path, monkeypatch) -> None:
    matplotlib.use("Agg")
    monkeypatch.setenv("VAD_ROOT", str(tmp_path))
    monkeypatch.setenv("VAD_DATA_DIR", str(shared_dir / "data"))
    monkeypatch.setenv("VAD_CACHE_DIR", str(shared_dir / "cache"))
    monkeypatch.setenv("VAD_NOTEBOOK_OVERRIDES", " ".join([*TINY_DATA, *TINY]))
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    namespace: dict = {}
    for cell in cells:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{NOTEBOOK.name}", "exec"), namespace)
    assert namespace["trained"].run_dir.parent == tmp_path / "outputs" / "train"
    assert 0 <= namespace["scored"].metrics["micro_auc"] <= 1
    assert len(namespace["fused"].scores) == len(namespace["scored"].scores)
    assert namespace["fig"].axes[0].get_title().startswith("video ")
