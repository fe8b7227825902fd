"""The console every part of a run prints to, and the library noise kept off it."""

from __future__ import annotations

import logging
import re
import sys
import traceback
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TypeVar

from rich.console import Console
from rich.progress import Progress

from vad.errors import VADError

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class _Tee:
    """Standard output, plus plain-text copies (run logs) while ``console_copied_to`` holds."""

    def __init__(self) -> None:
        self.copies: list[IO[str]] = []

    def write(self, text: str) -> int:
        written = sys.stdout.write(text)
        for copy in self.copies:
            copy.write(_ANSI.sub("", text))
        return written

    def flush(self) -> None:
        sys.stdout.flush()
        for copy in self.copies:
            copy.flush()

    def isatty(self) -> bool:
        return sys.stdout.isatty()

    def fileno(self) -> int:
        return sys.stdout.fileno()

    @property
    def encoding(self) -> str:
        return getattr(sys.stdout, "encoding", None) or "utf-8"


_TEE = _Tee()
#: soft wrap: long paths stay on one line (a terminal may still fold them; nothing is inserted)
console = Console(file=_TEE, soft_wrap=True)  # type: ignore[arg-type]


T = TypeVar("T")


def progress(items: Iterable[T], total: int, description: str) -> Iterator[T]:
    """``items`` with a transient progress bar (on a terminal, for two or more items): long
    steps such as building the frame cache or optical flow show that they advance."""
    terminal = Console()  # the terminal only: bars stay out of the run log
    if total < 2 or not terminal.is_terminal:
        yield from items
        return
    with Progress(*Progress.get_default_columns(), console=terminal, transient=True) as bar:
        yield from bar.track(items, total=total, description=description)


@contextmanager
def console_copied_to(path: str | Path) -> Iterator[None]:
    """Copy what the console shows into ``path`` (appended: the run's log), and the traceback
    of an error that ends the block."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a", encoding="utf-8")
    except OSError as exc:
        raise VADError(f"{path.parent}: output folder is not writable ({exc.strerror})") from exc
    with handle:
        _TEE.copies.append(handle)
        try:
            yield
        except BaseException as exc:
            handle.write("".join(traceback.format_exception(exc)))
            raise
        finally:
            _TEE.copies.remove(handle)


#: warnings of the libraries we use that tell a user nothing they can act on
NOISY_WARNINGS = (
    r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",
    r"You have overridden `on_after_batch_transfer` in `LightningModule`.*",
    r"The number of training batches \(\d+\) is smaller than the logging interval.*",
    r".*does not have many workers which may be a bottleneck.*",
    # data.val_videos=0: an empty validation loader (the run says it has no validation videos)
    r"Total length of `.*` across ranks is zero.*",
)
#: starts of Lightning's info lines that say nothing about this run's results
NOISY_INFO = (
    "GPU available:",
    "TPU available:",
    "HPU available:",
    "💡 Tip:",
    "Seed set to",
    "Loading `train_dataloader` to estimate",
    "`Trainer(limit_",
    "`Trainer(val_check_interval",
    "Using bfloat16 Automatic Mixed Precision",  # the run's summary line names the precision
    "Using 16bit Automatic Mixed Precision",
)


class _DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).lstrip().startswith(NOISY_INFO)


def quiet_library_noise() -> None:
    """Filter the known library warnings and info lines at their source (idempotent)."""
    for pattern in NOISY_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.seed"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropNoise) for f in logger.filters):
            logger.addFilter(_DropNoise())
