"""Benchmark the repair stages on corrupted UCSD Ped2: clean vs corrupted vs corrupted + cleaned.

    python bench/corruption.py [--ckpt CKPT] [--seed 0] [--variant 'OVERRIDES'] [--no-record]

Writes a corrupted copy of Ped2's test videos (``vad.data.corrupt`` defaults: ~10% single flips,
noise and blur bursts, single dropped frames, trimmed starts; training videos unchanged), then
scores three test sets with ONE U-Net checkpoint trained on the clean training videos (default: the
newest ``outputs/bench/ped2_unet/*/checkpoints/best.ckpt`` of ``bench/ped2.py --model unet``):
the clean test videos, the corrupted copy (``preprocess=none``) and the corrupted copy repaired by
``preprocess=clean`` (``--variant``: also with other stage settings). Prints micro AUC, macro AUC
and AP per set, the clean scores restricted to the frames the corrupted copy kept, the flip
detector's held-out accuracy and how well the stages found each corruption (against the
generator's manifest).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import hydra
import pandas as pd
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ped2 import PED2  # noqa: E402
from bench.results import record  # noqa: E402
from vad.data.corrupt import CorruptionSettings, corrupt_dataset, summary  # noqa: E402
from vad.data.layouts import FramesLayout, PixelplayLayout  # noqa: E402
from vad.models.checkpoint import META_KEY, read_checkpoint  # noqa: E402
from vad.scoring.metrics import average_precision, roc_auc  # noqa: E402
from vad.scoring.pipeline import anomaly_scores  # noqa: E402

HEADER = (
    "| date | test set | frames | filled | micro AUC | macro AUC | AP | command |\n"
    "|---|---|---|---|---|---|---|---|\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", type=Path, default=None, help="U-Net checkpoint (clean Ped2)")
    parser.add_argument("--data-root", type=Path, default=PED2)
    parser.add_argument("--seed", type=int, default=0, help="corruption seed")
    parser.add_argument("--no-record", action="store_true", help="do not append to results.md")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="OVERRIDES",
        help="also score the corrupted copy cleaned with these extra predict.py overrides "
        "(space separated), e.g. 'preprocess.denoise.method=nlm preprocess.denoise.deblur=rl'",
    )
    args = parser.parse_args()
    ckpt = args.ckpt or newest_checkpoint()
    run = ROOT / "outputs" / "bench" / "corruption" / time.strftime("%Y-%m-%d_%H-%M-%S")
    copy = run / "ped2_corrupted"
    manifest = corrupt_dataset(FramesLayout(args.data_root), copy, CorruptionSettings(), args.seed)
    print(summary(manifest), flush=True)
    data = read_checkpoint(ckpt)[META_KEY]["data"]
    corrupted = [
        "data=pixelplay",
        f"data.root={copy}",
        "data.layout.labels=labels.csv",
        f"data.channels={data['channels']}",
        f"data.image_size=[{','.join(str(v) for v in data['image_size'])}]",
    ]
    sets = {
        "clean": [f"data.root={args.data_root}"] if data.get("root") != str(args.data_root) else [],
        "corrupted": [*corrupted, "preprocess=none"],
        "corrupted+cleaned": [*corrupted, "preprocess=clean"],
    }
    for variant in args.variant:
        sets[f"corrupted+cleaned, {variant}"] = [*corrupted, "preprocess=clean", *variant.split()]
    rows = [
        score_set(name, ckpt, overrides, run / f"set{i}")
        for i, (name, overrides) in enumerate(sets.items())
    ]
    rows.insert(1, same_frames_row(run / "set0", manifest))
    shown = ckpt.relative_to(ROOT) if ckpt.is_relative_to(ROOT) else ckpt
    command = shlex.join(
        ["python", "bench/corruption.py", "--ckpt", str(shown), "--seed", str(args.seed)]
        + [f"--variant={v}" for v in args.variant]
    )
    table = "".join(format_row(row, command) for row in rows)
    print(f"\ncheckpoint: {ckpt}\n\n{HEADER}{table}")
    print(repair_report(run / "set2", manifest, copy))
    if not args.no_record:
        record("Corrupted Ped2 test videos (`bench/corruption.py`)", HEADER, table)


def newest_checkpoint() -> Path:
    found = sorted((ROOT / "outputs" / "bench" / "ped2_unet").glob("*/checkpoints/best.ckpt"))
    if not found:
        sys.exit("no U-Net checkpoint: run `python bench/ped2.py --model unet` or pass --ckpt")
    return found[-1]


def score_set(name: str, ckpt: Path, overrides: list[str], out: Path) -> dict:
    """Run predict.py on one test set; its metrics and score table."""
    command = [
        sys.executable,
        "predict.py",
        f"ckpt_path={ckpt}",
        f"hydra.run.dir={out}",
        *overrides,
    ]
    print("+", shlex.join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)
    metrics = json.loads((out / "metrics.json").read_text())
    scores = pd.read_csv(out / "scores.csv", dtype={"video": str})
    return {"name": name, "metrics": metrics, "scores": scores}


def same_frames_row(clean_run: Path, manifest: pd.DataFrame) -> dict:
    """The clean scores on only the frames the corrupted copy kept (default scoring)."""
    scores = pd.read_csv(clean_run / "scores.csv", dtype={"video": str})
    kept = manifest[(manifest["split"] == "test") & (manifest["status"] == "kept")]
    scores = scores.merge(kept[["video", "frame"]], on=["video", "frame"])
    cfg = OmegaConf.load(clean_run / ".hydra" / "config.yaml").scoring
    score = anomaly_scores(scores, cfg.column, cfg.normalization).to_numpy()
    labels = scores["label"].to_numpy()
    per_video = [
        roc_auc(labels[m], score[m])
        for m in (scores["video"] == v for v in scores["video"].unique())
    ]
    metrics = {
        "micro_auc": roc_auc(labels, score),
        "macro_auc": float(pd.Series(per_video).mean()),
        "ap": average_precision(labels, score),
    }
    return {"name": "clean, kept frames only", "metrics": metrics, "scores": scores}


def format_row(row: dict, command: str) -> str:
    m, scores = row["metrics"], row["scores"]
    cells = [
        time.strftime("%Y-%m-%d"),
        row["name"],
        str(len(scores)),
        str(int(scores["filled"].sum())),
        f"{m['micro_auc']:.3f}",
        f"{m['macro_auc']:.3f}",
        f"{m['ap']:.3f}",
        f"`{command}`",
    ]
    return "| " + " | ".join(cells) + " |\n"


def repair_report(cleaned_run: Path, manifest: pd.DataFrame, copy: Path) -> str:
    """Detections of the stages (scores.csv notes) against what the generator did."""
    scores = pd.read_csv(cleaned_run / "scores.csv", dtype={"video": str})
    done = manifest[manifest["split"] == "test"].rename(columns={"flipped": "was_flipped"})
    truth = done.merge(scores, on=["video", "frame"])
    lines = ["repairs on the scored frames (found / corrupted, false alarms):"]
    checks = {
        "flipped": (truth["was_flipped"] == 1, truth["flipped"] == 1),
        "denoised": (truth["noise_sigma"] > 0, truth["denoised"] == 1),
        "deblurred": (
            (truth["blur_sigma"] > 0) & (truth["noise_sigma"] == 0),
            truth["deblurred"] == 1,
        ),
    }
    for name, (actual, found) in checks.items():
        lines.append(
            f"  {name}: {int((actual & found).sum())} / {int(actual.sum())}, "
            f"{int((found & ~actual).sum())} false alarms"
        )
    lines.append(f"  frames after a dropped frame bridged: {int(scores['gap_filled'].sum())}")
    lines.append(f"  flip detector: {flip_detector_metrics(cleaned_run, copy)}")
    return "\n".join(lines)


def flip_detector_metrics(cleaned_run: Path, copy: Path) -> dict:
    """The metrics stored with the flip detector the cleaned run used (loaded, not retrained)."""
    cfg = OmegaConf.load(cleaned_run / ".hydra" / "config.yaml")
    stage = hydra.utils.instantiate(cfg.preprocess.flip)
    table = PixelplayLayout(copy, labels="labels.csv").videos()
    cache = Path(os.environ.get("VAD_CACHE_DIR", ROOT / ".cache" / "frames"))
    stage.fit(table[table["split"] == "train"], cache, cfg.data.channels)
    return {"weights": str(stage.weights_file), **stage.metrics}


if __name__ == "__main__":
    main()
