"""Writing the corrupted copy: frames, labels and manifest, built in a temporary folder."""

from __future__ import annotations

import logging
import shutil
import zlib
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from vad.data.corrupt.plan import NOTHING, CorruptionSettings, VideoPlan, corrupt_image, plan_video
from vad.data.layouts.layout import Layout
from vad.data.sources import FrameFolder, natural_key, open_source
from vad.errors import DataError
from vad.io.atomic import atomic_folder, write_csv, write_json

log = logging.getLogger(__name__)
FORMATS = {
    "pixelplay": ("training_videos", "testing_videos", "frame_{:05d}"),
    "frames": ("training/frames", "testing/frames", "{:05d}"),
}
JPEG_QUALITY = 95


def corrupt_dataset(
    layout: Layout,
    out: str | Path,
    settings: CorruptionSettings | None = None,
    seed: int = 0,
    fmt: str = "pixelplay",
    ext: str = "jpg",
    overwrite: bool = False,
) -> pd.DataFrame:
    """Write a corrupted copy of ``layout``'s dataset to ``out``; returns the manifest table."""
    settings = settings or CorruptionSettings()
    out = Path(out).expanduser()
    if fmt not in FORMATS:
        raise DataError(f"unknown output format {fmt!r} (choose from {sorted(FORMATS)})")
    if ext not in ("jpg", "png"):
        raise DataError(f"output image extension must be jpg or png, got {ext!r}")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise DataError(f"{out}: output folder exists and is not empty (pass overwrite)")
    table = layout.videos()
    with atomic_folder(out) as tmp:
        manifest = _write_copy(table, tmp, settings, seed, fmt, ext)
        _write_labels(table, manifest, tmp, out.name, fmt)
        write_csv(manifest, tmp / "manifest.csv")
        meta = {"seed": seed, "format": fmt, "ext": ext, "source": repr(layout)}
        write_json({**meta, "settings": asdict(settings)}, tmp / "manifest.json")
    return manifest


def _write_copy(
    table: pd.DataFrame, root: Path, settings: CorruptionSettings, seed: int, fmt: str, ext: str
) -> pd.DataFrame:
    parts = []
    for _, row in table.iterrows():
        split = row["split"]
        rng = np.random.default_rng([seed, zlib.crc32(f"{split}/{row['video']}".encode())])
        folder_name = FORMATS[fmt][0 if split == "train" else 1]
        folder = root / folder_name / row["video"]
        if split in settings.splits:
            plan = plan_video(row["frame_ids"], settings, rng)
        else:
            plan = plan_video(row["frame_ids"], NOTHING, rng)
        files = _write_video(row["source"], plan, folder, FORMATS[fmt][2], ext, rng)
        parts.append(_manifest_rows(split, row["video"], plan, files, root))
    return pd.concat(parts, ignore_index=True)


def _write_video(
    source_path: str, plan: VideoPlan, folder: Path, name: str, ext: str, rng: np.random.Generator
) -> dict[int, Path]:
    """Write the kept frames; untouched frames of a same-format folder are copied byte for byte."""
    folder.mkdir(parents=True)
    source, files = open_source(source_path), {}
    copyable = isinstance(source, FrameFolder)
    kept = dict(zip(plan.ids.tolist(), plan.kept().tolist(), strict=True))
    position = {int(i): p for p, i in enumerate(plan.ids.tolist())}
    grey = None
    for frame_id, image in source.iter_frames(3):
        if not kept[frame_id]:
            continue
        p = position[frame_id]
        path = folder / f"{name.format(frame_id)}.{ext}"
        touched = plan.flipped[p] or plan.noise_sigma[p] > 0 or plan.blur_sigma[p] > 0
        src_file = source.files[p] if copyable else None
        if not touched and src_file is not None and src_file.suffix.lower() == f".{ext}":
            shutil.copyfile(src_file, path)
        else:
            grey = _is_grey(image) if grey is None else grey
            image = image[..., 0] if grey else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
            flipped, noise, blur = plan.flipped[p], plan.noise_sigma[p], plan.blur_sigma[p]
            _imwrite(path, corrupt_image(image, flipped, noise, blur, rng))
        files[frame_id] = path
    return files


def _is_grey(image: np.ndarray) -> bool:
    """Grey content stored in three equal channels (UCSD) is written as one channel."""
    return bool(
        np.array_equal(image[..., 0], image[..., 1])
        and np.array_equal(image[..., 1], image[..., 2])
    )


def _imwrite(path: Path, image: np.ndarray) -> None:
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if path.suffix == ".jpg" else []
    if not cv2.imwrite(str(path), image, params):
        raise DataError(f"{path}: cannot write image")


def _manifest_rows(
    split: str, video: str, plan: VideoPlan, files: dict[int, Path], root: Path
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "split": split,
            "video": video,
            "frame": plan.ids,
            "status": plan.status.astype(str),
            "flipped": plan.flipped.astype(np.uint8),
            "noise_sigma": plan.noise_sigma.round(3),
            "blur_sigma": plan.blur_sigma.round(3),
            "file": [str(files[i].relative_to(root)) if i in files else "" for i in plan.ids],
        }
    )


def _write_labels(
    table: pd.DataFrame, manifest: pd.DataFrame, root: Path, name: str, fmt: str
) -> None:
    """Labels of the kept test frames, when every test video has labels."""
    test = table[table["split"] == "test"]
    if test.empty or any(lab is None for lab in test["labels"]):
        log.warning("not every test video has labels: the corrupted copy gets no labels file")
        return
    rows = []
    for _, row in test.iterrows():
        plan = manifest[(manifest["split"] == "test") & (manifest["video"] == row["video"])]
        kept = (plan["status"] == "kept").to_numpy()
        rows.append(
            pd.DataFrame(
                {
                    "video": row["video"],
                    "frame": row["frame_ids"][kept],
                    "label": row["labels"][kept],
                }
            )
        )
    rows.sort(key=lambda part: natural_key(part["video"].iloc[0]))
    labels = pd.concat(rows, ignore_index=True)
    write_csv(labels, root / "labels.csv")
    if fmt == "frames":
        np.save(root / f"{name}.npy", labels["label"].to_numpy(np.uint8))


def summary(manifest: pd.DataFrame) -> str:
    """Counts of each corruption per split."""
    lines = []
    for split, part in manifest.groupby("split", sort=False):
        kept = part["status"] == "kept"
        counts = {
            "frames": len(part),
            "kept": int(kept.sum()),
            "trimmed": int((part["status"] == "trimmed").sum()),
            "dropped": int((part["status"] == "dropped").sum()),
            "flipped": int(part["flipped"].sum()),
            "noisy": int((part["noise_sigma"] > 0).sum()),
            "blurred": int((part["blur_sigma"] > 0).sum()),
        }
        lines.append(f"{split}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return "\n".join(lines)
