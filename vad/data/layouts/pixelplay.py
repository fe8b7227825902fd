"""The competition layout: ``Dataset/{training,testing}_videos/NN/frame_%05d.jpg``.

File numbers are the ORIGINAL 0-based frame indices: runs have gaps (dropped frames) and trimmed
starts, and ids are kept as they are. Test labels are unknown unless a labels CSV is given.
Submission ids are ``f"{int(video)}_{int(frame)}"`` (``1_939``).
"""

from __future__ import annotations

from pathlib import Path

from vad.data.layouts.folder import FolderLayout


class PixelplayLayout(FolderLayout):
    """``root`` holds ``training_videos`` and ``testing_videos``, directly or under ``Dataset/``."""

    def __init__(self, root: str | Path, labels: str | None = None) -> None:
        given = Path(root).expanduser()
        root = given
        if not (root / "training_videos").is_dir() and (root / "Dataset").is_dir():
            root = root / "Dataset"
        labels_path = None
        if labels:  # relative to the root as given, else to the Dataset folder
            labels_path = (given / labels).absolute()
            if not labels_path.is_file() and (root / labels).is_file():
                labels_path = (root / labels).absolute()
        super().__init__(
            root,
            "training_videos",
            "testing_videos",
            labels_path,
            require_labels=labels is not None,
            default_labels=None,
        )
