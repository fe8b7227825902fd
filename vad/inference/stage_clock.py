"""Where a stream's time goes: seconds per stage (decode, preprocess, resize, flow and boxes,
network and scoring, annotation), summed over its frames (``infer.json``: ``seconds_by_stage``)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class StageClock:
    """Accumulated wall seconds per stage name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def timed(self, items: Iterable[T], name: str) -> Iterator[T]:
        """``items``, the time spent producing each one counted as ``name`` (inclusive of the
        iterators it pulls from; ``exclusive`` takes those out)."""
        iterator = iter(items)
        while True:
            start = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                self.add(name, time.perf_counter() - start)
                return
            self.add(name, time.perf_counter() - start)
            yield item

    def exclusive(self, outer: str, inner: str) -> None:
        """Make ``outer`` exclude the time of ``inner``, which it pulled from."""
        if outer in self.seconds:
            self.seconds[outer] = max(0.0, self.seconds[outer] - self.seconds.get(inner, 0.0))

    def merged(self, other: StageClock) -> None:
        for name, seconds in other.seconds.items():
            self.add(name, seconds)
