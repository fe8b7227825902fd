"""What happens to each frame of a video: the corruption settings, the per-video plan, and
applying one frame's corruptions."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vad.errors import DataError


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


# Settings that change nothing: videos outside ``splits`` are copied as they are.
NOTHING = CorruptionSettings(
    flip_rate=0.0,
    noise_every=float("inf"),
    blur_every=float("inf"),
    drop_rate=0.0,
    trim_rate=0.0,
    splits=("train", "test"),
)
