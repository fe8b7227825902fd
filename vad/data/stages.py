"""The frame stage protocol: preprocessing the frame cache runs while it builds an entry.

The frame cache decodes a video into a stream of ``Frame`` records, passes it through the stages it
is handed, in order (e.g. flip fix, then denoise), resizes and stores the result. The data layer
only knows this protocol; the stages themselves (``vad.preprocessing``) are built by the caller. A
stage is a generator transform, so whole videos never need to be in memory, and it may record
per-frame facts in ``Frame.info`` (``{"flipped": True}``): they are stored in the cache and joined
into score files. A stage that learns from the training videos (e.g. a flip detector) does so in
``fit``, which the data module calls before any video is cached.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Frame:
    """One decoded frame: its original id, the uint8 image (H, W) or (H, W, 3), and stage notes."""

    id: int
    image: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


class FrameStage(ABC):
    """A cached preprocessing step. ``splits`` says which splits it runs on."""

    splits: tuple[str, ...] = ("train", "test")

    def applies_to(self, split: str) -> bool:
        return split in self.splits

    def cache_key(self) -> dict[str, Any]:
        """Everything that changes the stage's output; part of the cache key."""
        return {"stage": type(self).__qualname__, "splits": list(self.splits)}

    def fit(self, train: pd.DataFrame, cache_dir: Path, channels: int) -> None:
        """Learn from the training videos (rows of a video table; may be empty) before any video
        is cached; ``cache_dir`` may hold what was learned. Default: nothing to learn."""
        return None

    @abstractmethod
    def __call__(self, frames: Iterator[Frame], video: str) -> Iterator[Frame]:
        """Transform a video's frame stream."""
