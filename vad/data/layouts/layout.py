"""Base class of dataset layouts."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from vad.data.sources import is_frame_file, is_video_file, natural_key, unsupported_format
from vad.errors import DataError

log = logging.getLogger(__name__)


class Layout(ABC):
    """A dataset on disk; ``videos()`` returns its video table (see ``vad.data.table``).

    Constructing a layout touches no file; the folder is read when ``videos()`` is called.
    Layouts whose videos belong to scenes (ShanghaiTech) override ``select_scenes``.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()

    def videos(self) -> pd.DataFrame:
        """The video table of the dataset."""
        if not self.root.is_dir():
            raise DataError(f"{self.root}: dataset root not found")
        return self.scan()

    def select_scenes(self, scenes: Sequence[int] | int | None) -> Layout:
        """Keep only the videos of ``scenes`` (``data.scenes``); None keeps every video. A layout
        without scenes refuses a selection."""
        if scenes is None:
            return self
        shown = (
            list(scenes) if isinstance(scenes, Sequence) and not isinstance(scenes, str) else scenes
        )
        raise DataError(
            f"data.scenes={shown}: scenes only apply to layouts with scenes (shanghaitech), "
            f"not to {type(self).__name__} at {self.root} (set data.scenes=null)"
        )

    @abstractmethod
    def scan(self) -> pd.DataFrame:
        """Read the dataset folder into a video table."""

    def require_dir(self, relative: str | Path) -> Path:
        path = self.root / relative
        if not path.is_dir():
            raise DataError(f"{path}: expected folder not found ({type(self).__name__} layout)")
        return path

    def __repr__(self) -> str:
        return f"{type(self).__name__}(root={str(self.root)!r})"


def video_entries(folder: Path, skip_suffix: str | None = None) -> list[Path]:
    """Frame folders and video files directly inside ``folder``, in natural order."""
    entries = []
    for path in folder.iterdir():
        if path.name.startswith(".") or (skip_suffix and path.name.endswith(skip_suffix)):
            continue
        if is_video_file(path) or (path.is_dir() and any(is_frame_file(p) for p in path.iterdir())):
            entries.append(path)
        elif (reason := unsupported_format(path)) is not None:
            raise DataError(reason)
        else:
            log.warning("ignored %s: not a video file or a folder of frames", path)
    if not entries:
        raise DataError(f"{folder}: no videos (frame folders or video files) found")
    return sorted(entries, key=lambda p: natural_key(p.name))


def check_claimed(
    entries: Iterable[str], videos: Iterable[str], where: Path, what: str, train: Iterable[str] = ()
) -> None:
    """Every entry of a ground-truth source (ids of the videos it covers) names a test video;
    else a DataError naming ``where`` and the ids of the entries no test video claims (never a
    silent drop). ``train``: the training video ids, named as such in the message."""
    test = set(videos)
    unclaimed = sorted(set(entries) - test, key=natural_key)
    if not unclaimed:
        return
    training = sorted(set(unclaimed) & set(train), key=natural_key)
    known = sorted(test, key=natural_key)
    note = f"; {_first(training)} are training videos" if training else ""
    raise DataError(
        f"{where}: {what} for {len(unclaimed)} video(s) that are not test videos: "
        f"{_first(unclaimed)}{note} (test videos: {_first(known)})"
    )


def _first(ids: list[str], n: int = 8) -> str:
    """Up to ``n`` ids, with how many more there are."""
    more = f" and {len(ids) - n} more" if len(ids) > n else ""
    return f"{ids[:n]}{more}"
