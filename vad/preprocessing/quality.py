"""Classical image-quality measures and repairs: noise level, blur, non-local means, deconvolution.

A frame's noise level is Immerkær's estimate (the mean absolute response of a Laplacian-difference
kernel that cancels smooth image content). Compared with the rest of its video it flags both
corruptions: heavy noise multiplies it, blur removes the fine texture and compression noise it
otherwise measures.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from vad.preprocessing.trained import grey

_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
BLUR_SIGMAS = np.arange(0.5, 6.01, 0.25)


def noise_level(image: np.ndarray) -> float:
    """Immerkær's noise standard deviation estimate of a frame (grey levels), on its grey
    version."""
    return plane_noise_level(grey(image))


def plane_noise_level(plane: np.ndarray) -> float:
    """Immerkær's noise standard deviation estimate of one (H, W) image plane."""
    response = cv2.filter2D(plane.astype(np.float32), -1, _KERNEL)[1:-1, 1:-1]
    return float(np.sqrt(np.pi / 2) * np.abs(response).mean() / 6)


def estimate_blur(reference: np.ndarray, blurred: np.ndarray) -> float:
    """The Gaussian sigma that, applied to a sharp neighbouring frame, best matches ``blurred``."""
    sharp = grey(reference).astype(np.float32)
    target = grey(blurred).astype(np.float32)
    errors = [np.abs(cv2.GaussianBlur(sharp, (0, 0), s) - target).mean() for s in BLUR_SIGMAS]
    return float(BLUR_SIGMAS[int(np.argmin(errors))])


def deblur(image: np.ndarray, sigma: float, iterations: int = 30) -> np.ndarray:
    """Richardson-Lucy deconvolution of a Gaussian blur of ``sigma`` pixels."""
    observed = image.astype(np.float32) + 1.0  # positive, as the multiplicative updates need
    estimate = observed.copy()
    for _ in range(iterations):
        ratio = observed / np.maximum(cv2.GaussianBlur(estimate, (0, 0), sigma), 1e-3)
        estimate *= cv2.GaussianBlur(ratio, (0, 0), sigma)
    return np.clip(estimate - 1.0, 0, 255).round().astype(np.uint8)


def nlm_denoise(
    images: Sequence[np.ndarray], center: int, h: float, template: int = 7, search: int = 21
) -> np.ndarray:
    """Temporal non-local means of ``images[center]`` using all ``images`` (an odd count)."""
    if len(images) % 2 == 0:
        raise ValueError(f"non-local means needs an odd number of frames, got {len(images)}")
    frames = [np.ascontiguousarray(im) for im in images]
    if frames[0].ndim == 2:
        return cv2.fastNlMeansDenoisingMulti(frames, center, len(frames), None, h, template, search)
    bgr = [cv2.cvtColor(im, cv2.COLOR_RGB2BGR) for im in frames]
    out = cv2.fastNlMeansDenoisingColoredMulti(bgr, center, len(bgr), None, h, h, template, search)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)
