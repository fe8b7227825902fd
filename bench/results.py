"""``bench/results.md``: one section per benchmark, each a table whose rows are appended."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"
TITLE = "# Benchmark results\n\nRows are appended by the `bench/*.py` scripts; newest last.\n"


def record(section: str, header: str, rows: str, path: Path = RESULTS) -> None:
    """Append ``rows`` (markdown table lines) to the table under ``## section``, creating the
    file or the section (with ``header``) when missing."""
    text = path.read_text() if path.exists() else TITLE
    heading = f"## {section}\n"
    if heading not in text:
        path.write_text(f"{text.rstrip()}\n\n{heading}\n{header}{rows}")
        return
    start = text.index(heading) + len(heading)
    following = text.find("\n## ", start)
    end = len(text) if following < 0 else following + 1
    body = text[start:end].rstrip("\n") + "\n"
    path.write_text(text[:start] + body + rows + ("\n" + text[end:] if following >= 0 else ""))
