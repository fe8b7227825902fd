"""``vad-corrupt``: write a corrupted copy of a video dataset (``vad.data.corrupt``).

Usage::

    vad-corrupt SOURCE OUT --layout frames --seed 0
    python -m vad.cli.corrupt SOURCE OUT --layout frames --seed 0
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

import yaml

from vad.data import layouts
from vad.data.corrupt import FORMATS, CorruptionSettings, corrupt_dataset, summary
from vad.data.layouts.layout import Layout
from vad.errors import DataError
from vad.utils.signals import terminate_like_interrupt

LAYOUTS = {
    "frames": layouts.FramesLayout,
    "pixelplay": layouts.PixelplayLayout,
    "folder": layouts.FolderLayout,
    "ucsd": layouts.UCSDLayout,
    "avenue": layouts.AvenueLayout,
    "shanghaitech": layouts.ShanghaiTechLayout,
}


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


#: what each corruption setting does (``--help``)
SETTING_HELP = {
    "flip_rate": "share of frames flipped upside down (never two in a row)",
    "noise_every": "a burst of Gaussian noise starts every this many frames on average (inf: none)",
    "noise_length": "frames per noise burst (inclusive range)",
    "noise_sigma": "std of the noise on 0-255 grey levels (range)",
    "blur_every": "a burst of Gaussian blur starts every this many frames on average (inf: none)",
    "blur_length": "frames per blur burst (inclusive range)",
    "blur_sigma": "std of the blur in source pixels (range)",
    "drop_rate": "share of frames dropped, singly (never two in a row)",
    "trim_rate": "share of videos whose first frames are cut",
    "trim_max": "at most this many frames are cut from a video's start",
    "splits": "splits to corrupt (the others are copied unchanged)",
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    defaults = CorruptionSettings()
    parser = argparse.ArgumentParser(
        prog="vad-corrupt",
        description="Write a corrupted copy of a video dataset (flips, noise and blur bursts, "
        "dropped frames, trimmed starts) with a record of every change.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("source", type=Path, help="dataset root, read with --layout")
    parser.add_argument("out", type=Path, help="output folder (created)")
    parser.add_argument(
        "--layout", default="frames", choices=sorted(LAYOUTS), help="how SOURCE is laid out"
    )
    parser.add_argument(
        "--layout-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a layout argument (repeatable), e.g. gt=ped2.mat",
    )
    parser.add_argument(
        "--format", default="pixelplay", choices=sorted(FORMATS), help="layout of OUT"
    )
    parser.add_argument("--ext", default="jpg", choices=["jpg", "png"], help="frame file type")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the plan")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    for f in fields(CorruptionSettings):
        value = getattr(defaults, f.name)
        flag, text = "--" + f.name.replace("_", "-"), SETTING_HELP[f.name]
        if f.name == "splits":
            parser.add_argument(
                flag, nargs="+", default=list(value), choices=["train", "test"], help=text
            )
        elif isinstance(value, tuple):
            kind = type(value[0])
            parser.add_argument(
                flag, nargs=2, type=kind, default=list(value), metavar=("LOW", "HIGH"), help=text
            )
        else:
            parser.add_argument(flag, type=type(value), default=value, help=text)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry point (``vad-corrupt``, ``python -m vad.cli.corrupt``)."""
    terminate_like_interrupt()
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


if __name__ == "__main__":
    main()
