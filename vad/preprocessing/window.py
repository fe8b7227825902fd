"""Sliding windows over a stream, for stages that look at neighbouring frames."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def sliding(items: Iterable[T], before: int, after: int) -> Iterator[tuple[T, list[T], list[T]]]:
    """Each item with up to ``before`` previous and ``after`` next items (fewer at the ends).

    Only ``before + after + 1`` items are held at a time. Previous items are the ones already
    yielded, so a consumer that repairs an item in place sees the repaired version as a neighbour.
    """
    past: deque[T] = deque(maxlen=before)
    ahead: deque[T] = deque()
    for item in items:
        ahead.append(item)
        if len(ahead) > after:
            center = ahead.popleft()
            yield center, list(past), list(ahead)
            past.append(center)
    while ahead:
        center = ahead.popleft()
        yield center, list(past), list(ahead)
        past.append(center)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` items (the last one may be shorter)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
