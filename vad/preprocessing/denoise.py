"""Noisy and blurred frames: detected against their own video, then repaired in place.

A frame whose noise level (``quality.noise_level``) is ``noise_ratio`` times the median of the
frames around it is noisy; one below ``blur_ratio`` times that median is blurred; the others are
intact. Repairs (``method`` for noise, ``deblur`` for blur):

- ``temporal`` (default): motion-compensated prediction from the nearest intact frames, fused
  with the damaged frame (``vad.preprocessing.temporal``); without an intact neighbour in the
  window it falls back to ``nlm`` / ``rl``;
- ``nlm``: OpenCV temporal non-local means over the neighbouring frames;
- ``learned``: a small denoising network trained on the training videos (``denoise_net``);
- ``rl``: Richardson-Lucy deconvolution of the Gaussian blur that turns the nearest intact
  neighbour into the blurred frame.

Frame ids never change; ``denoised`` and ``deblurred`` (0/1) are noted on every frame.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vad.data.stages import Frame, FrameStage
from vad.errors import DataError
from vad.preprocessing.denoise_net import LearnedDenoiser
from vad.preprocessing.quality import deblur, estimate_blur, nlm_denoise, noise_level
from vad.preprocessing.temporal import excess_noise, fuse_noisy, predict_frame, transfer_detail
from vad.preprocessing.window import sliding

METHODS = ("temporal", "nlm", "learned")
DEBLUR = ("temporal", "rl", "none")
Neighbour = tuple[Frame, float]  # a frame and its noise level


class Denoiser(FrameStage):
    """Detects noisy and blurred frames and repairs them.

    Args:
        splits: splits the stage runs on.
        method: noise repair, ``temporal``, ``nlm`` or ``learned``.
        deblur: blur repair, ``temporal``, ``rl`` or ``none`` (blur is then not even noted).
        window: a frame is compared with the median noise level of up to ``window`` frames on
            each side; intact neighbours for ``temporal`` are looked for as far.
        noise_ratio / blur_ratio: detection thresholds on level / median level.
        fusion_window: side of the window the temporal repairs measure mismatch over.
        detail_tolerance: squared grey-level mismatch at which ``temporal`` deblurring trusts
            the prediction's detail and the deconvolved frame equally.
        h_factor: non-local means strength ``h`` = ``h_factor`` x the estimated noise std.
        nlm_frames: frames (odd) non-local means draws patches from, centred on the noisy one.
        template / search: non-local means patch and search window sizes.
        deblur_iterations: Richardson-Lucy steps.
        learned: options of the learned denoiser (``checkpoint``, training settings).
    """

    def __init__(
        self,
        splits: Sequence[str] = ("test",),
        method: str = "temporal",
        deblur: str = "temporal",
        window: int = 25,
        noise_ratio: float = 2.0,
        blur_ratio: float = 0.6,
        fusion_window: int = 9,
        detail_tolerance: float = 16.0,
        h_factor: float = 0.6,
        nlm_frames: int = 5,
        template: int = 7,
        search: int = 21,
        deblur_iterations: int = 30,
        learned: Mapping[str, Any] | None = None,
    ) -> None:
        if method not in METHODS or deblur not in DEBLUR:
            raise DataError(
                f"denoise method must be one of {METHODS} and deblur one of {DEBLUR}, "
                f"got {method!r}, {deblur!r}"
            )
        if nlm_frames < 1 or nlm_frames % 2 == 0:
            raise DataError(f"nlm_frames must be a positive odd number, got {nlm_frames}")
        if not 0 < blur_ratio < 1 < noise_ratio:
            raise DataError("thresholds must satisfy 0 < blur_ratio < 1 < noise_ratio")
        self.splits, self.method, self.deblur = tuple(splits), method, deblur
        self.window, self.noise_ratio, self.blur_ratio = int(window), noise_ratio, blur_ratio
        self.fusion_window, self.detail_tolerance = int(fusion_window), float(detail_tolerance)
        self.h_factor, self.nlm_frames = float(h_factor), int(nlm_frames)
        self.template, self.search = int(template), int(search)
        self.deblur_iterations = int(deblur_iterations)
        self.learned = LearnedDenoiser(**dict(learned or {})) if method == "learned" else None

    def fit(self, train: pd.DataFrame, cache_dir: Path, channels: int) -> None:
        if self.learned is not None:
            self.learned.fit_network(train, cache_dir)

    def cache_key(self) -> dict[str, Any]:
        key = {
            **super().cache_key(),
            "method": self.method,
            "deblur": self.deblur,
            "window": self.window,
            "thresholds": [self.noise_ratio, self.blur_ratio],
            "temporal": [self.fusion_window, self.detail_tolerance],
            "nlm": [self.h_factor, self.nlm_frames, self.template, self.search],
            "deblur_iterations": self.deblur_iterations,
        }
        if self.learned is not None:
            key["weights"] = self.learned.weights_identity()
        return key

    def __call__(self, frames: Iterator[Frame], video: str) -> Iterator[Frame]:
        measured = ((frame, noise_level(frame.image)) for frame in frames)
        for (frame, level), past, future in sliding(measured, self.window, self.window):
            levels = [lv for _, lv in past] + [level] + [lv for _, lv in future]
            base = max(float(np.median(levels)), 1e-3)
            noisy = level > self.noise_ratio * base
            blurred = self.deblur != "none" and level < self.blur_ratio * base
            intact = self._intact(base, past, future) if noisy or blurred else (None, None)
            if noisy:
                frame.image = self._denoise(frame, level, base, intact, past, future)
            elif blurred:
                sharp = self._deblur(frame, intact)
                blurred = sharp is not None
                frame.image = sharp if sharp is not None else frame.image
            frame.info["denoised"], frame.info["deblurred"] = int(noisy), int(blurred)
            yield frame

    def _intact(
        self, base: float, past: list[Neighbour], future: list[Neighbour]
    ) -> tuple[Frame | None, Frame | None]:
        """The nearest frames before and after whose noise level is normal."""
        normal = lambda lv: self.blur_ratio * base <= lv <= self.noise_ratio * base  # noqa: E731
        before = [f for f, lv in past if normal(lv)]
        after = [f for f, lv in future if normal(lv)]
        return (before[-1] if before else None), (after[0] if after else None)

    def _denoise(
        self,
        frame: Frame,
        level: float,
        base: float,
        intact: tuple[Frame | None, Frame | None],
        past: list[Neighbour],
        future: list[Neighbour],
    ) -> np.ndarray:
        if self.learned is not None:
            return self.learned(frame.image)
        if self.method == "temporal" and any(f is not None for f in intact):
            before, after = intact
            prediction = predict_frame(frame.id, _pair(before), _pair(after))
            reference = before if before is not None else after
            assert reference is not None
            sigma = excess_noise(frame.image, reference.image)
            return fuse_noisy(frame.image, prediction, sigma, self.fusion_window)
        sigma = float(np.sqrt(level**2 - base**2))
        return self._nlm(frame, sigma, past, future)

    def _nlm(
        self, frame: Frame, sigma: float, past: list[Neighbour], future: list[Neighbour]
    ) -> np.ndarray:
        half = self.nlm_frames // 2
        before = [f.image for f, _ in past[-half:]] if half else []
        after = [f.image for f, _ in future[:half]] if half else []
        # keep the window odd and centred where possible, shifting it at the video's ends
        size = min(self.nlm_frames, 1 + len(before) + len(after))
        size -= 1 - size % 2
        start = max(0, min(len(before) - size // 2, len(before) + 1 + len(after) - size))
        images = [*before, frame.image, *after][start : start + size]
        h = max(self.h_factor * sigma, 1.0)
        return nlm_denoise(images, len(before) - start, h, self.template, self.search)

    def _deblur(self, frame: Frame, intact: tuple[Frame | None, Frame | None]) -> np.ndarray | None:
        """Estimate the blur against the nearest intact frame, deconvolve, and (``temporal``) add
        the predicted detail; None without an intact neighbour."""
        candidates = [f for f in intact if f is not None]
        if not candidates:
            return None
        reference = min(candidates, key=lambda f: abs(f.id - frame.id))
        sigma = estimate_blur(reference.image, frame.image)
        deconvolved = deblur(frame.image, sigma, self.deblur_iterations)
        if self.deblur == "rl":
            return deconvolved
        prediction = predict_frame(frame.id, _pair(intact[0]), _pair(intact[1]))
        return transfer_detail(
            frame.image, prediction, sigma, deconvolved, self.detail_tolerance, self.fusion_window
        )


def _pair(frame: Frame | None) -> tuple[int, np.ndarray] | None:
    return None if frame is None else (frame.id, frame.image)
