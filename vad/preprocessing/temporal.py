"""Motion-compensated repair: a damaged frame re-estimated with the help of intact neighbours.

A fixed camera sees nearly the same picture from one frame to the next, so the nearest intact
frames before and after a damaged one, warped along the dense optical flow between them to the
damaged frame's time, predict it well. The prediction is then combined with what the damaged frame
itself shows, trusting the prediction only where it agrees with the observation:

- noise: a per-pixel Wiener fusion of the noisy observation (noise variance sigma^2) and the
  prediction (error variance tau^2, estimated locally as the mismatch beyond the noise);
- blur: the observation's low frequencies plus the prediction's fine detail, falling back to the
  deconvolved observation where the blurred prediction disagrees with the observation.
"""

from __future__ import annotations

import cv2
import numpy as np

from vad.preprocessing.quality import plane_noise_level
from vad.preprocessing.trained import grey


def dense_flow(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Farneback optical flow from ``before`` to ``after`` (H, W, 2) on grey images."""
    return cv2.calcOpticalFlowFarneback(grey(before), grey(after), None, 0.5, 3, 15, 3, 5, 1.2, 0)


def warp(image: np.ndarray, flow: np.ndarray, scale: float) -> np.ndarray:
    """Sample ``image`` at x + scale * flow(x)."""
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x = grid_x + scale * flow[..., 0]
    map_y = grid_y + scale * flow[..., 1]
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def predict_between(before: np.ndarray, after: np.ndarray, position: float) -> np.ndarray:
    """The float32 frame at ``position`` in (0, 1) between two frames: both warped along the flow
    between them (content at x came from x - position * flow in ``before``) and averaged with
    weights by temporal distance."""
    flow = dense_flow(before, after)
    from_before = warp(before, flow, -position).astype(np.float32)
    from_after = warp(after, flow, 1.0 - position).astype(np.float32)
    return (1.0 - position) * from_before + position * from_after


def predict_frame(
    frame_id: int, before: tuple[int, np.ndarray] | None, after: tuple[int, np.ndarray] | None
) -> np.ndarray:
    """A prediction of frame ``frame_id`` from the nearest intact ``(id, image)`` on each side (one
    side only: that frame as is)."""
    if before is None or after is None:
        side = before if before is not None else after
        assert side is not None, "needs at least one intact neighbour"
        return side[1].astype(np.float32)
    position = (frame_id - before[0]) / (after[0] - before[0])
    return predict_between(before[1], after[1], position)


def excess_noise(observed: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per channel, the noise std of ``observed`` beyond that of an intact ``reference``."""
    planes = lambda im: [im] if im.ndim == 2 else [im[..., c] for c in range(im.shape[-1])]  # noqa: E731
    levels = [
        (plane_noise_level(a), plane_noise_level(b))
        for a, b in zip(planes(observed), planes(reference), strict=True)
    ]
    sigma = np.array([np.sqrt(max(a**2 - b**2, 0.0)) for a, b in levels], np.float32)
    return sigma[0] if observed.ndim == 2 else sigma


def fuse_noisy(
    observed: np.ndarray, prediction: np.ndarray, sigma: float | np.ndarray, window: int = 9
) -> np.ndarray:
    """Wiener fusion: ``(tau^2 * observed + sigma^2 * prediction) / (sigma^2 + tau^2)`` with
    ``tau^2`` the local mean squared mismatch beyond the noise variance ``sigma^2`` (per
    channel)."""
    y = observed.astype(np.float32)
    mismatch = cv2.blur((y - prediction) ** 2, (window, window))
    variance = np.maximum(np.asarray(sigma, np.float32), 1.0) ** 2
    tau2 = np.maximum(mismatch - variance, 0.0)
    fused = (tau2 * y + variance * prediction) / (variance + tau2)
    return np.clip(fused, 0, 255).round().astype(np.uint8)


def transfer_detail(
    observed: np.ndarray,
    prediction: np.ndarray,
    sigma: float,
    fallback: np.ndarray,
    tolerance: float = 16.0,
    window: int = 9,
) -> np.ndarray:
    """Sharpen a frame blurred by a Gaussian of ``sigma``: add the prediction's detail (prediction
    minus its blurred self) where the blurred prediction matches the observation; elsewhere use
    ``fallback`` (the deconvolved observation). ``tolerance``: squared grey-level mismatch at which
    both count equally."""
    y = observed.astype(np.float32)
    blurred_prediction = cv2.GaussianBlur(prediction, (0, 0), sigma)
    detailed = y + (prediction - blurred_prediction)
    mismatch = cv2.blur((blurred_prediction - y) ** 2, (window, window))
    trust = tolerance / (tolerance + mismatch)
    sharp = trust * detailed + (1.0 - trust) * fallback.astype(np.float32)
    return np.clip(sharp, 0, 255).round().astype(np.uint8)
