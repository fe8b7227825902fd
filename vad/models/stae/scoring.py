"""Frame scores of STAE from its two branches: the configured mix of their errors.

Every 2T-frame clip scores its T input frames with the reconstruction branch (``recon_*``
columns) and its next T frames with the prediction branch (``pred_*``); the other branch's
columns are NaN on those rows (errors are position-calibrated, see ``STAEModule``). After the
writer has aggregated all clips covering a frame (NaN-aware mean or max), ``mix_scores`` derives
the standard columns:

    mse        w_recon * recon_mse + w_pred * pred_mse            (weights normalised to sum 1)
    psnr       10 * log10(1 / mse): the PSNR of the mixed error, never a mix of PSNRs, so that
               it stays a monotone function of ``mse`` under both aggregations
    patch_max  w_recon * recon_patch_max + w_pred * pred_patch_max

The first T frames of a run are covered only by reconstruction, the last T only by prediction.
There the missing branch error is estimated as the present one times the ratio of the two
branches' mean errors over the frames of the same video that both cover (all videos when the
video has no such frame, 1 when none has), so single-branch frames stay on the scale of the mix.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from vad.errors import ScoreFileError

BRANCHES = {"reconstruction": "recon", "prediction": "pred"}
BRANCH_ERRORS = ("mse", "patch_max")
#: chosen on held-out normal Ped2 videos with sped-up segments (see ``vad.cli.stae_mix``)
DEFAULT_MIX = {"reconstruction": 0.75, "prediction": 0.25}


def branch_weights(mix: Mapping[str, float] | None) -> dict[str, float]:
    """``{"reconstruction": a, "prediction": b}`` -> ``{"recon": a/(a+b), "pred": b/(a+b)}``."""
    mix = dict(mix if mix is not None else DEFAULT_MIX)
    unknown = set(mix) - set(BRANCHES)
    if unknown:
        raise ValueError(f"unknown STAE mix branch(es) {sorted(unknown)}; use {list(BRANCHES)}")
    weights = {BRANCHES[k]: float(mix.get(k, 0.0)) for k in BRANCHES}
    total = sum(weights.values())
    if min(weights.values()) < 0 or not np.isfinite(total) or total <= 0:
        raise ValueError(f"STAE mix weights must be >= 0 with a positive sum, got {mix}")
    return {k: v / total for k, v in weights.items()}


def mix_scores(scores: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """Add ``mse``, ``psnr`` and ``patch_max`` mixed from the branch columns (see module doc)."""
    out = scores.copy()
    for error in BRANCH_ERRORS:
        recon, pred = complete_branches(scores, f"recon_{error}", f"pred_{error}")
        out[error] = weights["recon"] * recon + weights["pred"] * pred
    out["psnr"] = 10 * np.log10(1 / np.clip(out["mse"].to_numpy(dtype=float), 1e-10, None))
    return out


def complete_branches(
    scores: pd.DataFrame, recon_column: str, pred_column: str
) -> tuple[np.ndarray, np.ndarray]:
    """Both branch columns with each missing value estimated from the other branch by ratio."""
    missing = [c for c in (recon_column, pred_column) if c not in scores.columns]
    if missing:
        raise ScoreFileError(f"STAE scores lack the branch column(s) {missing}")
    recon = scores[recon_column].to_numpy(dtype=float)
    pred = scores[pred_column].to_numpy(dtype=float)
    neither = np.isnan(recon) & np.isnan(pred)
    if neither.any():
        row = scores.iloc[int(np.flatnonzero(neither)[0])]
        raise ScoreFileError(
            f"{neither.sum()} frame(s) have neither {recon_column} nor {pred_column}, e.g. "
            f"video {row['video']!r} frame {int(row['frame'])}"
        )
    both = ~np.isnan(recon) & ~np.isnan(pred)
    fallback = _ratio(pred[both], recon[both])
    ratio = np.full(len(scores), fallback)
    for _, rows in scores.groupby("video", sort=False).indices.items():
        shared = rows[both[rows]]
        if len(shared):
            ratio[rows] = _ratio(pred[shared], recon[shared])
    recon = np.where(np.isnan(recon), pred / ratio, recon)
    pred = np.where(np.isnan(pred), recon * ratio, pred)
    return recon, pred


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> float:
    """mean(numerator) / mean(denominator), or 1 when that is undefined."""
    if not len(numerator):
        return 1.0
    ratio = float(np.mean(numerator) / np.mean(denominator)) if np.mean(denominator) > 0 else 0.0
    return ratio if np.isfinite(ratio) and ratio > 0 else 1.0
