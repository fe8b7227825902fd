"""Choose STAE's score mix on held-out *normal* videos, without test labels.

Every candidate mix of the reconstruction and prediction branches is judged by the label-free
validation score: the pseudo-anomaly copies of the validation videos (``vad.scoring.
pseudo_anomaly``: sped-up segments and a pasted fast object, with the settings of
``conf/callbacks/label_free_validation.yaml``) are scored as test videos are (clips every
``data.eval_stride`` frames, rows aggregated per frame, mixed, oriented, normalised per video,
smoothed with ``--sigma``) and the mixes ranked by the mean micro AUC over the kinds.

    python -m vad.cli.stae_mix <run folder or checkpoint> [--sigma 3] [--output table.csv]
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from omegaconf import OmegaConf

from vad.errors import DataError
from vad.io.atomic import write_csv
from vad.models.checkpoint import load_model
from vad.models.stae.lightning_model import STAEModule
from vad.models.stae.scoring import mix_scores
from vad.scoring.metrics import evaluate
from vad.scoring.pipeline import anomaly_scores
from vad.scoring.pseudo_anomaly import pseudo_copies
from vad.scoring.scorer import Scorer
from vad.utils.configs import config_dir
from vad.utils.console import console
from vad.utils.signals import terminate_like_interrupt

#: candidate prediction weights (the reconstruction weight is 1 - w)
PREDICTION_WEIGHTS = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
#: the label-free validation callback's settings (kinds of pseudo-anomaly)
CALLBACK = config_dir() / "callbacks" / "label_free_validation.yaml"


def compare_mixes(
    scores: pd.DataFrame,
    weights: Sequence[float] = PREDICTION_WEIGHTS,
    column: str = "psnr",
    sigma: float = 0.0,
) -> pd.DataFrame:
    """Micro and macro AUC of ``column`` (min-max per video, smoothed with ``sigma`` frames) for
    each prediction weight."""
    rows = []
    for w in weights:
        mixed = mix_scores(scores, {"recon": 1 - w, "pred": w})
        frame = mixed[["video", "frame", "label"]].assign(
            score=anomaly_scores(mixed, column, "minmax", sigma=sigma).to_numpy()
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
    kinds: Mapping[str, Any] | None = None,
    aggregate: str = "mean",
    calibrate: bool | None = None,
    sigma: float = 0.0,
) -> pd.DataFrame:
    """The comparison table of all candidate mixes for each kind of pseudo-anomaly (``kinds``:
    ``factors`` and ``pasted`` options, by default the callback's), plus their mean;
    ``calibrate`` overrides the checkpoint's ``calibrate_positions``."""
    module, meta = load_model(checkpoint)
    if not isinstance(module, STAEModule):
        raise DataError(f"{checkpoint}: not an STAE checkpoint ({meta['model'].get('_target_')})")
    if calibrate is not None:
        module.calibrate_positions = calibrate
    datamodule = hydra.utils.instantiate(OmegaConf.create(meta["data"]))
    datamodule.configure_clips(module.clip_length, module.modalities)
    videos = datamodule.videos("val")
    if not videos:
        raise DataError(f"{checkpoint}: the training data config holds out no validation video")
    if kinds is None:
        callback = OmegaConf.load(CALLBACK).label_free_validation
        kinds = OmegaConf.to_container(callback, resolve=False)
    copies = pseudo_copies(
        module, videos, kinds["factors"], datamodule.modality_settings, kinds.get("pasted")
    )
    scorer, tables = Scorer(module, aggregate), []
    for kind, made in copies.items():
        scores = scorer.score_videos(made, 16, datamodule.eval_stride)
        tables.append(compare_mixes(scores, sigma=sigma).assign(kind=kind))
    table = pd.concat(tables, ignore_index=True)
    mean = table.groupby("prediction_weight", as_index=False)[["micro_auc", "macro_auc"]].mean()
    return pd.concat([table, mean.assign(kind="mean")], ignore_index=True)


def main(argv: Sequence[str] | None = None) -> None:
    terminate_like_interrupt()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="STAE training run folder or .ckpt file")
    parser.add_argument(
        "--sigma", type=float, default=3.0, help="smoothing of the scores (scoring default: 3)"
    )
    parser.add_argument("--aggregate", choices=["mean", "max"], default="mean")
    parser.add_argument("--output", type=Path, help="also write the table to this CSV file")
    parser.add_argument(
        "--uncalibrated", action="store_true", help="score without the position calibration"
    )
    args = parser.parse_args(argv)
    calibrate = False if args.uncalibrated else None
    table = select_mix(args.checkpoint, None, args.aggregate, calibrate, args.sigma)
    console.print(table.to_string(index=False, float_format="%.4f"))
    mean = table[table["kind"] == "mean"]
    best = mean.loc[mean["micro_auc"].idxmax()]
    console.print(
        f"best mix on pseudo-anomalies: reconstruction {1 - best['prediction_weight']:g}, "
        f"prediction {best['prediction_weight']:g} (mean micro AUC {best['micro_auc']:.4f})"
    )
    if args.output:
        write_csv(table, args.output, index=False, float_format="%.6f")


if __name__ == "__main__":
    main()
