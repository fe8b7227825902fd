"""The scored rows of one streamed video, held as a few growing numpy columns.

A stream releases its rows a batch at a time; keeping each batch's DataFrame until the end costs
about a kilobyte and several Python objects per frame. ``RowStore`` copies every released chunk
into one numpy array per column (capacity doubled when full), so an hour of footage holds the
same handful of objects and ``8 x columns`` bytes per frame. ``frame()`` gives back the rows with
the columns, order and dtypes they were appended with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vad.errors import DataError


class RowStore:
    """Rows of one video appended chunk by chunk; ``video`` is the constant ``video`` column."""

    def __init__(self, video: str, capacity: int = 1024) -> None:
        self.video = video
        self.size = 0
        self.capacity = max(1, int(capacity))
        self.columns: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return self.size

    def append(self, chunk: pd.DataFrame) -> None:
        """Add rows whose ``video`` is this store's video and whose other columns are numeric."""
        if chunk.empty:
            return
        if "video" in chunk and not (chunk["video"] == self.video).all():
            raise DataError(f"rows of another video appended to the rows of {self.video!r}")
        values = {c: chunk[c].to_numpy() for c in chunk.columns if c != "video"}
        if not self.columns:
            self.columns = {c: np.empty(self.capacity, v.dtype) for c, v in values.items()}
        if set(values) != set(self.columns):
            raise DataError(
                f"video {self.video!r}: rows with columns {sorted(values)} appended to rows "
                f"with columns {sorted(self.columns)}"
            )
        self._reserve(self.size + len(chunk))
        for name, column in self.columns.items():
            column[self.size : self.size + len(chunk)] = values[name]
        self.size += len(chunk)

    def frame(self) -> pd.DataFrame:
        """The rows so far (``video`` first, then the columns as appended)."""
        if not self.columns:
            return pd.DataFrame(columns=["video", "frame"])
        table = pd.DataFrame({c: v[: self.size].copy() for c, v in self.columns.items()})
        table.insert(0, "video", self.video)
        return table

    def _reserve(self, size: int) -> None:
        if size <= self.capacity:
            return
        while self.capacity < size:
            self.capacity *= 2
        for name, column in self.columns.items():
            grown = np.empty(self.capacity, column.dtype)
            grown[: self.size] = column[: self.size]
            self.columns[name] = grown
