"""SIGTERM ends a run as Ctrl-C does (SLURM, containers and ``kill`` stop jobs with SIGTERM)."""

from __future__ import annotations

import signal
import threading
from types import FrameType


def terminate_like_interrupt() -> None:
    """From now on SIGTERM raises ``KeyboardInterrupt`` in the main thread, so the stack unwinds:
    atomic outputs remove their temporary files and training stops as on Ctrl-C. A second SIGTERM
    during that clean-up ends the process at once. No-op outside the main thread."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt(f"stopped by signal {signum} (SIGTERM)")
