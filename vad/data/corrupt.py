"""Corrupted copies of a dataset, for testing and benchmarking the repair stages.

Reads any dataset through its layout and writes a copy in the ``pixelplay`` layout
(``{training,testing}_videos/<video>/frame_%05d.<ext>``) or the ``frames`` layout
(``{training,testing}/frames/<video>/%05d.<ext>``), always named with the ORIGINAL frame ids. The
corruptions are those of real faulty cameras: single vertically flipped frames, bursts of heavy
Gaussian noise or blur on a few consecutive frames, single dropped frames and trimmed starts.
Everything is drawn from ``seed`` (per video, from the seed and the video's name), so the same
settings give the same copy.

Written beside the videos: ``labels.csv`` (``video,frame,label`` of the kept test frames, read by
the pixelplay and folder layouts; the frames layout also gets ``<root name>.npy``),
``manifest.csv`` (one row per source frame: what was done to it) and ``manifest.json`` (the
settings). The manifest is for tests and benchmarks; the pipeline never reads it.

    python -m vad.data.corrupt SOURCE OUT --layout frames --seed 0
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import yaml

from vad.data import layouts
from vad.data.layouts.base import Layout
from vad.data.sources import FrameFolder, natural_key, open_source
from vad.errors import DataError
from vad.io.atomic import write_csv, write_json

log = logging.getLogger(__name__)
LAYOUTS = {
    "frames": layouts.FramesLayout,
    "pixelplay": layouts.PixelplayLayout,
    "folder": layouts.FolderLayout,
    "ucsd": layouts.UCSDLayout,
    "avenue": layouts.AvenueLayout,
}
FORMATS = {
    "pixelplay": ("training_videos", "testing_videos", "frame_{:05d}"),
    "frames": ("training/frames", "testing/frames", "{:05d}"),
}
JPEG_QUALITY = 95


@dataclass(frozen=True)
class CorruptionSettings:
    """What to corrupt and how often. Bursts start every ``*_every`` frames on average."""

    flip_rate: float = 0.10  # share of frames flipped upside down, never two in a row
    noise_every: float = 150.0
    noise_length: tuple[int, int] = (2, 5)  # frames per burst (inclusive range)
    noise_sigma: tuple[float, float] = (30.0, 40.0)  # Gaussian noise std on 0-255
    blur_every: float = 250.0
    blur_length: tuple[int, int] = (2, 5)
    blur_sigma: tuple[float, float] = (2.0, 3.5)  # Gaussian blur std in source pixels
    drop_rate: float = 0.02  # share of frames dropped, singly (never two in a row)
    trim_rate: float = 0.3  # share of videos whose first frames are cut
    trim_max: int = 20  # at most this many frames are cut from a start
    splits: tuple[str, ...] = ("test",)  # training footage is copied unchanged by default

    def __post_init__(self) -> None:
        for name in ("flip_rate", "drop_rate", "trim_rate"):
            if not 0 <= getattr(self, name) < 1:
                raise DataError(f"corruption setting {name} must be in [0, 1)")
        for name in ("noise_every", "blur_every"):
            if getattr(self, name) <= 0:
                raise DataError(f"corruption setting {name} must be > 0 (use inf for none)")
        for name in ("noise_length", "blur_length", "noise_sigma", "blur_sigma"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise DataError(f"corruption setting {name} must be a range 0 < low <= high")
        if self.trim_max < 0 or set(self.splits) - {"train", "test"}:
            raise DataError("trim_max must be >= 0 and splits a subset of (train, test)")


@dataclass
class VideoPlan:
    """Per source frame: ``status`` (kept/trimmed/dropped), ``flipped``, noise and blur sigmas."""

    ids: np.ndarray
    status: np.ndarray
    flipped: np.ndarray
    noise_sigma: np.ndarray
    blur_sigma: np.ndarray

    def kept(self) -> np.ndarray:
        return self.status == "kept"


def plan_video(
    ids: np.ndarray, settings: CorruptionSettings, rng: np.random.Generator
) -> VideoPlan:
    """Decide what happens to each frame of one video (the frames stay in order)."""
    n = len(ids)
    status = np.full(n, "kept", dtype=object)
    trim = 0
    if settings.trim_max and n > 2 and rng.random() < settings.trim_rate:
        trim = int(rng.integers(1, min(settings.trim_max, n - 2) + 1))
    status[:trim] = "trimmed"
    drops = _isolated(rng.random(n) < settings.drop_rate)
    drops[: trim + 1] = False  # a video never starts or ends with a gap
    drops[-1] = False
    status[drops] = "dropped"
    kept = np.flatnonzero(status == "kept")
    flipped, noise, blur = np.zeros(n, bool), np.zeros(n), np.zeros(n)
    flipped[kept[_isolated(rng.random(len(kept)) < settings.flip_rate)]] = True
    for every, length, sigma, out in (
        (settings.noise_every, settings.noise_length, settings.noise_sigma, noise),
        (settings.blur_every, settings.blur_length, settings.blur_sigma, blur),
    ):
        for start, stop in _bursts(len(kept), every, length, rng):
            out[kept[start:stop]] = rng.uniform(*sigma)
    return VideoPlan(np.asarray(ids), status, flipped, noise, blur)


def _isolated(chosen: np.ndarray) -> np.ndarray:
    """Keep a chosen position only when the previous position is not kept."""
    out = chosen.copy()
    for i in range(1, len(out)):
        out[i] = out[i] and not out[i - 1]
    return out


def _bursts(n: int, every: float, length: tuple[int, int], rng: np.random.Generator) -> list:
    """``(start, stop)`` of bursts: gaps between bursts drawn uniformly in [every/2, 3*every/2]."""
    if not np.isfinite(every):
        return []
    bursts, pos = [], int(rng.uniform(0, every))
    while pos < n:
        size = int(rng.integers(length[0], length[1] + 1))
        bursts.append((pos, min(pos + size, n)))
        pos += size + max(1, int(rng.uniform(every / 2, 3 * every / 2)))
    return bursts


def corrupt_image(
    image: np.ndarray, flipped: bool, noise: float, blur: float, rng: np.random.Generator
) -> np.ndarray:
    """Apply one frame's corruptions (flip, then blur, then noise) to a uint8 image."""
    if flipped:
        image = image[::-1]
    if blur > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    if noise > 0:
        image = np.clip(image + rng.normal(0.0, noise, image.shape), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)


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
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        manifest = _write_copy(table, tmp, settings, seed, fmt, ext)
        _write_labels(table, manifest, tmp, out.name, fmt)
        write_csv(manifest, tmp / "manifest.csv")
        meta = {"seed": seed, "format": fmt, "ext": ext, "source": repr(layout)}
        write_json({**meta, "settings": asdict(settings)}, tmp / "manifest.json")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
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
            plan = plan_video(row["frame_ids"], _NOTHING, rng)
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


_NOTHING = CorruptionSettings(
    flip_rate=0.0,
    noise_every=float("inf"),
    blur_every=float("inf"),
    drop_rate=0.0,
    trim_rate=0.0,
    splits=("train", "test"),
)


def build_layout(name: str, root: str | Path, options: Sequence[str] = ()) -> Layout:
    """A layout by name with ``key=value`` options (values parsed as YAML)."""
    if name not in LAYOUTS:
        raise DataError(f"unknown layout {name!r} (choose from {sorted(LAYOUTS)})")
    kwargs = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep:
            raise DataError(f"layout option {option!r} is not key=value")
        kwargs[key] = yaml.safe_load(value)
    return LAYOUTS[name](root, **kwargs)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    defaults = CorruptionSettings()
    parser = argparse.ArgumentParser(
        prog="vad-corrupt", description="Write a corrupted copy of a video dataset."
    )
    parser.add_argument("source", type=Path, help="dataset root, read with --layout")
    parser.add_argument("out", type=Path, help="output folder (created)")
    parser.add_argument("--layout", default="frames", choices=sorted(LAYOUTS))
    parser.add_argument("--layout-option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--format", default="pixelplay", choices=sorted(FORMATS))
    parser.add_argument("--ext", default="jpg", choices=["jpg", "png"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true")
    for f in fields(CorruptionSettings):
        value = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        if f.name == "splits":
            parser.add_argument(flag, nargs="+", default=list(value), choices=["train", "test"])
        elif isinstance(value, tuple):
            kind = type(value[0])
            parser.add_argument(
                flag, nargs=2, type=kind, default=list(value), metavar=("LOW", "HIGH")
            )
        else:
            parser.add_argument(flag, type=type(value), default=value)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry point (``vad-corrupt``, ``python -m vad.data.corrupt``)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parse_args(argv)
    values = {f.name: getattr(args, f.name) for f in fields(CorruptionSettings)}
    settings = CorruptionSettings(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    )
    layout = build_layout(args.layout, args.source, args.layout_option)
    manifest = corrupt_dataset(
        layout, args.out, settings, args.seed, args.format, args.ext, args.overwrite
    )
    print(summary(manifest))
    print(f"corrupted copy written to {args.out}")


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


if __name__ == "__main__":
    main()
