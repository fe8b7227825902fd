"""The console every part of a run prints to."""

from __future__ import annotations

from rich.console import Console

console = Console()
