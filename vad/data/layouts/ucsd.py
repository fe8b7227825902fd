"""The original UCSD archive layout: ``UCSDpedN/Train/TrainNNN/*.tif``, ``Test/TestNNN/*.tif``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from vad.data.labels import labels_from_masks, ranges_to_labels, read_ucsd_m
from vad.data.layouts.layout import Layout, check_claimed, video_entries
from vad.data.sources import is_frame_file, natural_key, open_source
from vad.data.table import make_table, video_row
from vad.errors import DataError


class UCSDLayout(Layout):
    """UCSD Ped1/Ped2 as distributed (``UCSD_Anomaly_Dataset.v1p2``).

    ``root`` is the ``UCSDpedN`` folder, or the archive root together with ``subset="UCSDped2"``.
    Labels come from ``UCSDpedN.m`` (``gt="m"``), from the ``TestNNN_gt/*.bmp`` pixel masks
    (``gt="masks"``: a frame is anomalous if any mask pixel is set), or ``gt="auto"``: the ``.m``
    file
    when present, else the masks. ``_gt`` folders are never read as videos; when present they are
    the videos' per-pixel masks.
    """

    def __init__(self, root: str | Path, subset: str | None = None, gt: str = "auto") -> None:
        super().__init__(Path(root) / subset if subset else root)
        if gt not in ("auto", "m", "masks"):
            raise DataError(f"UCSD layout: gt must be 'auto', 'm' or 'masks', got {gt!r}")
        self.gt = gt

    def scan(self) -> pd.DataFrame:
        train = video_entries(self.require_dir("Train"), skip_suffix="_gt")
        test = video_entries(self.require_dir("Test"), skip_suffix="_gt")
        sources = [open_source(p) for p in test]
        for split in ("Train", "Test"):
            _check_gt_folders(self.root / split, [p.name for p in test], [p.name for p in train])
        labels, label_file = self._labels(sources)
        rows = [video_row("train", _video_id(p), open_source(p)) for p in train]
        rows += [
            video_row("test", _video_id(s.path), s, lab, where, _mask_dir(s.path))
            for s, lab, where in zip(sources, labels, label_file, strict=True)
        ]
        return make_table(rows, self.root)

    def _m_file(self) -> Path | None:
        named = self.root / f"{self.root.name}.m"
        if named.is_file():
            return named
        found = sorted(self.root.glob("UCSDped*.m"))
        return found[0] if found else None

    def _labels(self, sources: list) -> tuple[list, list]:
        m_file = self._m_file() if self.gt in ("auto", "m") else None
        if self.gt == "m" and m_file is None:
            raise DataError(f"{self.root}: no UCSDpedN.m ground-truth file")
        if m_file is not None:
            ranges = read_ucsd_m(m_file)
            if len(ranges) != len(sources):
                raise DataError(
                    f"{m_file}: {len(ranges)} ground-truth entries but "
                    f"{len(sources)} test videos in {self.root / 'Test'}"
                )
            labels = [
                ranges_to_labels(r, len(s.ids), f"{m_file} (video {s.path.name})")
                for r, s in zip(ranges, sources, strict=True)
            ]
            return labels, [m_file] * len(sources)
        return self._mask_labels(sources)

    def _mask_labels(self, sources: list) -> tuple[list, list]:
        labels, where = [], []
        for source in sources:
            mask_dir = source.path.with_name(source.path.name + "_gt")
            if not mask_dir.is_dir():
                labels.append(None)
                where.append(None)
                continue
            masks = sorted(
                (p for p in mask_dir.iterdir() if is_frame_file(p)),
                key=lambda p: natural_key(p.name),
            )
            if len(masks) != len(source.ids):
                raise DataError(
                    f"{mask_dir}: {len(masks)} masks but {len(source.ids)} frames in {source.path}"
                )
            labels.append(labels_from_masks(masks))
            where.append(mask_dir)
        if all(lab is None for lab in labels):
            raise DataError(
                f"{self.root}: no ground truth (neither UCSDpedN.m nor TestNNN_gt masks)"
            )
        return labels, where


def _check_gt_folders(folder: Path, test: list[str], train: list[str]) -> None:
    """Every ``<name>_gt`` mask folder in ``folder`` belongs to a test video ``<name>``."""
    names = [p.name[: -len("_gt")] for p in folder.iterdir() if p.name.endswith("_gt")]
    check_claimed(names, test, folder, "_gt pixel-mask folders", train)


def _mask_dir(video: Path) -> Path | None:
    """``TestNNN_gt`` beside ``TestNNN``, when present."""
    folder = video.with_name(video.name + "_gt")
    return folder if folder.is_dir() else None


def _video_id(path: Path) -> str:
    """``Train001`` -> ``001``; other names are kept."""
    digits = "".join(ch for ch in path.name if ch.isdigit())
    return digits or path.name
