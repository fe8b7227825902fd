"""Benchmark rows land in their own section of the results file."""

from __future__ import annotations

from pathlib import Path

from bench.results import record


def test_rows_are_appended_to_their_own_section(tmp_path: Path) -> None:
    path = tmp_path / "results.md"
    record("Models", "| m |\n|---|\n", "| unet |\n", path)
    record("Sweeps", "| s |\n|---|\n", "| 100 jobs |\n", path)
    record("Models", "| m |\n|---|\n", "| stae |\n", path)
    text = path.read_text()
    assert text.count("## Models") == text.count("## Sweeps") == text.count("| m |") == 1
    models, sweeps = text.split("## Sweeps")
    assert models.index("| unet |") < models.index("| stae |")
    assert "| 100 jobs |" in sweeps and "unet" not in sweeps
