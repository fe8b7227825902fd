"""Pixel-level localisation metrics of anomaly maps against pixel masks (anomalies positive).

Inputs per video: ``maps`` (T, H, W) of finite raw scores (higher = more anomalous) and
``masks`` (T, H, W), non-zero where a pixel is anomalous.

    pixel_auroc     ROC AUC of all pixels of all frames pooled (as anomalib), streamed through
                    histograms of 20-bit monotone codes of the float32 scores: exact for the
                    quantised scores (ties within a code count one half), which differ from the
                    scores by at most ~5e-4 relative (11 mantissa bits are kept)
    ucsd_pixel_rd   UCSD pixel-level criterion (Mahadevan et al., CVPR 2010; Li, Mahadevan &
    ucsd_pixel_auc  Vasconcelos, TPAMI 2014): at threshold t an anomalous frame is a true positive
                    when at least 40% of its anomalous pixels have map >= t, a normal frame a false
                    positive when any pixel has map >= t. This is the frame-level ROC of one score
                    per frame (anomalous: the ceil(0.4 n)-th largest map value of its n mask
                    pixels; normal: the map's maximum); rd = 1 - EER, auc = its ROC AUC
    rbdc, tbdc      region- and track-based detection criteria (Ramachandra & Jones, WACV 2020),
                    see ``vad.scoring.region_metrics``

All of them at once: ``vad.scoring.localisation_metrics.pixel_metrics``.
"""

from __future__ import annotations

import math

import numpy as np

from vad.scoring.metrics import equal_error_rate, roc_auc

N_CODES = 1 << 20  # 1 sign + 8 exponent + 11 mantissa bits of a float32
_SHIFT = np.uint32(12)
_SIGN = np.uint32(0x80000000)
_CHUNK = 1 << 22  # pixels quantised at a time (bounded temporaries)


def score_codes(values: np.ndarray) -> np.ndarray:
    """uint32 codes in [0, 2**20) of ``values`` as float32, monotone (non-decreasing) in value."""
    bits = (np.asarray(values, dtype=np.float32) + np.float32(0.0)).view(np.uint32)  # -0 -> +0
    keys = np.where(bits >= _SIGN, ~bits, bits | _SIGN)
    return keys >> _SHIFT


def code_floor(codes: np.ndarray) -> np.ndarray:
    """float32 lower edge of each code: ``value >= code_floor(c)`` iff ``score_codes(value) >= c``
    (for finite values; codes of finite values only)."""
    keys = np.asarray(codes, dtype=np.uint32) << _SHIFT
    bits = np.where(keys >= _SIGN, keys & ~_SIGN, ~keys)
    return bits.astype(np.uint32).view(np.float32)


def histogram_quantiles(counts: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """float32 lower edges of the codes holding the ``levels`` quantiles of a code histogram."""
    cumulative = np.cumsum(counts)
    targets = np.maximum(np.asarray(levels, np.float64) * cumulative[-1], 1)  # non-empty codes
    codes = np.searchsorted(cumulative, targets, side="left")
    return code_floor(np.minimum(codes, len(counts) - 1))


def check_video(video: str, maps: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(float32 maps, bool masks) of one video; ValueError naming it on bad shapes or values."""
    maps, masks = np.asarray(maps), np.asarray(masks)
    if maps.shape != masks.shape or maps.ndim != 3:
        raise ValueError(
            f"video {video!r}: maps {maps.shape} and masks {masks.shape} must both be (T, H, W)"
        )
    maps = maps.astype(np.float32, copy=False)
    if not np.isfinite(maps).all():
        raise ValueError(f"video {video!r}: maps contain NaN or infinite values")
    return maps, masks != 0


def per_frame(array: np.ndarray) -> np.ndarray:
    """(T, H * W) view of a (T, H, W) array (also for T = 0)."""
    return array.reshape(array.shape[0], array.shape[1] * array.shape[2])


class PixelAUROC:
    """Pooled pixel ROC AUC, streamed video by video through two 2**20-bin code histograms
    (16 MiB, whatever the number of pixels)."""

    def __init__(self) -> None:
        self._hist = np.zeros(2 * N_CODES, dtype=np.int64)  # negatives, then positives

    def update(self, maps: np.ndarray, masks: np.ndarray) -> None:
        """Adds the pixels of ``maps`` (T, H, W) with labels ``masks != 0``."""
        maps, masks = check_video("", maps, masks)
        flat_maps, flat_masks = maps.reshape(-1), masks.reshape(-1)
        for start in range(0, flat_maps.size, _CHUNK):
            keys = score_codes(flat_maps[start : start + _CHUNK]).astype(np.int64)
            keys[flat_masks[start : start + _CHUNK]] += N_CODES
            self._hist += np.bincount(keys, minlength=2 * N_CODES)

    @property
    def counts(self) -> np.ndarray:
        """Pixels per code, both classes together."""
        return self._hist[:N_CODES] + self._hist[N_CODES:]

    def compute(self) -> float:
        """AUROC of the quantised scores; NaN when one class is absent."""
        negative = self._hist[:N_CODES].astype(np.float64)
        positive = self._hist[N_CODES:].astype(np.float64)
        n_neg, n_pos = negative.sum(), positive.sum()
        if n_neg == 0 or n_pos == 0:
            return float("nan")
        below = np.cumsum(negative) - negative  # negatives in strictly lower codes
        return float(np.dot(positive, below + 0.5 * negative) / (n_pos * n_neg))


def ucsd_frame_scores(
    maps: np.ndarray, masks: np.ndarray, fraction: float = 0.4
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores) per frame for the UCSD criterion: an anomalous frame (a mask pixel set)
    scores the ceil(fraction * n)-th largest map value of its n mask pixels, so that it is
    detected at t exactly when >= fraction of them have map >= t; a normal frame its maximum."""
    maps, masks = check_video("", maps, masks)
    flat_maps, flat_masks = per_frame(maps), per_frame(masks)
    sizes = flat_masks.sum(axis=1)
    scores = flat_maps.max(axis=1, initial=-np.inf).astype(np.float64)
    for frame in np.flatnonzero(sizes):
        inside = flat_maps[frame][flat_masks[frame]]
        k = max(1, math.ceil(fraction * sizes[frame] - 1e-9))  # 0.4 * 15 = 6.000...01
        scores[frame] = np.partition(inside, inside.size - k)[inside.size - k]
    return (sizes > 0).astype(np.int64), scores


def ucsd_pixel_criterion(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """``ucsd_pixel_rd`` (1 - EER) and ``ucsd_pixel_auc`` of ``ucsd_frame_scores`` output; NaN
    when all frames are of one class."""
    return {
        "ucsd_pixel_rd": 1.0 - equal_error_rate(labels, scores),
        "ucsd_pixel_auc": roc_auc(labels, scores),
    }
