"""Choose STAE's score mix on held-out *normal* videos, without test labels.

Validation videos hold no anomaly, so one is simulated: in copies of each validation video a
segment is played ``factor`` times faster (every factor-th frame, the frames after it follow on
without a jump). Faster-than-walking motion is the signature of Ped2's cyclists, skaters and carts
and the "skip frame" pseudo-anomaly of Astrid et al. (BMVC 2021). Every candidate mix is scored
as test videos are (clip rows aggregated per frame, mixed, oriented, normalised per video) and
ranked by the micro AUC of the sped-up frames.

    python -m vad.models.stae.mix_selection <run folder or checkpoint> [--factors 2 3]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from omegaconf import OmegaConf

from vad.errors import DataError
from vad.io.atomic import write_csv
from vad.models.checkpoint import load_model
from vad.models.stae.lightning_model import STAEModule
from vad.models.stae.scoring import mix_scores
from vad.scoring.metrics import evaluate
from vad.scoring.pipeline import anomaly_scores
from vad.tasks.instantiate import instantiate_datamodule
from vad.tasks.report import console

#: candidate prediction weights (the reconstruction weight is 1 - w)
PREDICTION_WEIGHTS = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)


def speed_up(length: int, start: int, span: int, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame positions of a video of ``length`` frames whose ``span`` frames from ``start`` are
    played ``factor`` x faster, and their labels (1 = sped up)."""
    if start < 0 or span < 1 or factor < 1 or start + span * factor > length:
        raise ValueError(f"cannot speed up {span} frames x{factor} from {start} of {length}")
    fast = start + factor * np.arange(span)
    positions = np.concatenate([np.arange(start), fast, np.arange(start + span * factor, length)])
    labels = np.zeros(len(positions), dtype=np.uint8)
    labels[start : start + span] = 1
    return positions, labels


def pseudo_anomalies(
    frames: np.ndarray, clip_length: int, factor: int, copies: int = 2
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """``(start, frames, labels)`` for ``copies`` sped-up copies of one video; the segment is
    ``clip_length`` frames long and stays at least half a clip from either end."""
    span, margin = clip_length, max(1, clip_length // 2)
    last = len(frames) - span * factor - margin
    if last < margin:
        raise DataError(
            f"a validation video of {len(frames)} frames is too short for a x{factor} "
            f"segment of {span} frames with {margin}-frame margins"
        )
    for start in np.unique(np.linspace(margin, last, copies).astype(int)).tolist():
        positions, labels = speed_up(len(frames), start, span, factor)
        yield start, np.asarray(frames[positions]), labels


@torch.no_grad()
def clip_rows(module: STAEModule, video: str, frames: np.ndarray, batch_size: int) -> pd.DataFrame:
    """Raw per-clip rows of all 2T-frame windows of ``frames`` (uint8 (N, H, W, C))."""
    length = module.clip_length
    starts = np.arange(len(frames) - length + 1)
    parts = []
    for first in range(0, len(starts), batch_size):
        chunk = starts[first : first + batch_size]
        clips = np.stack([frames[s : s + length] for s in chunk])
        batch = {
            "frames": torch.from_numpy(clips),
            "video": [video] * len(chunk),
            "frame_ids": torch.from_numpy(chunk[:, None] + np.arange(length)),
        }
        batch = module.on_after_batch_transfer(batch, 0)
        out = module.frame_scores(batch, module(batch))
        rows = pd.DataFrame({"video": out["video"], "frame": out["frame"].numpy()})
        for name, values in out["scores"].items():
            rows[name] = values.float().numpy()
        parts.append(rows)
    return pd.concat(parts, ignore_index=True)


def pseudo_scores(
    module: STAEModule, videos: Sequence, factor: int, aggregate: str, batch_size: int = 16
) -> pd.DataFrame:
    """Aggregated branch scores and pseudo labels of sped-up copies of ``videos``."""
    tables = []
    for video in videos:
        for start, frames, labels in pseudo_anomalies(video.frames, module.clip_length, factor):
            name = f"{video.video}@{start}x{factor}"
            raw = clip_rows(module, name, frames, batch_size)
            table = raw.groupby(["video", "frame"], sort=True).agg(aggregate).reset_index()
            table["label"] = labels[table["frame"].to_numpy()]
            tables.append(table)
    return pd.concat(tables, ignore_index=True)


def compare_mixes(
    scores: pd.DataFrame, weights: Sequence[float] = PREDICTION_WEIGHTS, column: str = "psnr"
) -> pd.DataFrame:
    """Micro and macro AUC of ``column`` (min-max per video) for each prediction weight."""
    rows = []
    for w in weights:
        mixed = mix_scores(scores, {"recon": 1 - w, "pred": w})
        frame = mixed[["video", "frame", "label"]].assign(
            score=anomaly_scores(mixed, column, "minmax").to_numpy()
        )
        summary, _ = evaluate(frame)
        rows.append(
            {
                "prediction_weight": w,
                "micro_auc": summary["micro_auc"],
                "macro_auc": summary["macro_auc"],
            }
        )
    return pd.DataFrame(rows)


def select_mix(
    checkpoint: str | Path,
    factors: Sequence[int] = (2, 3),
    aggregate: str = "mean",
    calibrate: bool | None = None,
) -> pd.DataFrame:
    """The comparison table of all candidate mixes for each factor, plus their mean;
    ``calibrate`` overrides the checkpoint's ``calibrate_positions``."""
    module, meta = load_model(checkpoint)
    if not isinstance(module, STAEModule):
        raise DataError(f"{checkpoint}: not an STAE checkpoint ({meta['model'].get('_target_')})")
    if calibrate is not None:
        module.calibrate_positions = calibrate
    datamodule = instantiate_datamodule(OmegaConf.create(meta["data"]))
    videos = datamodule.videos("val")
    if not videos:
        raise DataError(f"{checkpoint}: the training data config holds out no validation video")
    tables = []
    for factor in factors:
        scores = pseudo_scores(module, videos, factor, aggregate)
        tables.append(compare_mixes(scores).assign(factor=factor))
    table = pd.concat(tables, ignore_index=True)
    mean = table.groupby("prediction_weight", as_index=False)[["micro_auc", "macro_auc"]].mean()
    return pd.concat([table, mean.assign(factor="mean")], ignore_index=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="STAE training run folder or .ckpt file")
    parser.add_argument("--factors", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--aggregate", choices=["mean", "max"], default="mean")
    parser.add_argument("--output", type=Path, help="also write the table to this CSV file")
    parser.add_argument(
        "--uncalibrated", action="store_true", help="score without the position calibration"
    )
    args = parser.parse_args(argv)
    calibrate = False if args.uncalibrated else None
    table = select_mix(args.checkpoint, args.factors, args.aggregate, calibrate)
    console.print(table.to_string(index=False, float_format="%.4f"))
    mean = table[table["factor"] == "mean"]
    best = mean.loc[mean["micro_auc"].idxmax()]
    console.print(
        f"best mix on pseudo-anomalies: reconstruction {1 - best['prediction_weight']:g}, "
        f"prediction {best['prediction_weight']:g} (mean micro AUC {best['micro_auc']:.4f})"
    )
    if args.output:
        write_csv(table, args.output, index=False, float_format="%.6f")


if __name__ == "__main__":
    main()
