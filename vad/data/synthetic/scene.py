"""The fixed camera view: a building front, a lawn, a horizontal walkway and a second lawn."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vad.data.synthetic.draw import circle, ellipse, line, rect


@dataclass(frozen=True)
class Scene:
    """The fixed camera view shared by all videos: background and geometry (pixels)."""

    background: np.ndarray  # uint8 (H, W)
    wall: float  # bottom of the building strip
    walk_top: float
    walk_bottom: float

    @property
    def height(self) -> int:
        return self.background.shape[0]

    @property
    def width(self) -> int:
        return self.background.shape[1]

    @property
    def size(self) -> float:
        """Figure scale: 1 at 120 px frame height."""
        return self.height / 120

    @property
    def pace(self) -> float:
        """Horizontal speed scale: 1 at 160 px frame width."""
        return self.width / 160

    @property
    def lanes(self) -> tuple[float, float]:
        """Range of foot positions (y) of people walking along the walkway."""
        band = self.walk_bottom - self.walk_top
        return self.walk_top + 0.45 * band, self.walk_bottom - 0.12 * band


def make_scene(rng: np.random.Generator, width: int, height: int) -> Scene:
    """Background with a building strip, two lawns, a paved walkway and static street furniture."""
    wall, walk_top, walk_bottom = 0.16 * height, 0.48 * height, 0.75 * height
    shape, size = (height, width), height / 120
    smooth, fine = _noise(rng, shape, 6 * size, 6 * size), _noise(rng, shape, 0.6, 0.6)
    streaks = _noise(rng, shape, 0.4, 1.5 * size)
    rows = np.arange(height, dtype=np.float32)[:, None]
    lawn = 92 + 9 * smooth + 6 * fine + 7 * streaks
    walk = 170 + 4 * smooth + 2 * fine
    facade = 132 + 4 * smooth + 2 * fine
    image = np.where(
        rows < wall,
        facade,
        np.where(rows < walk_top, lawn, np.where(rows < walk_bottom, walk, lawn)),
    )
    image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    scene = Scene(image, wall, walk_top, walk_bottom)
    _draw_facade(image, rng, scene)
    _draw_paving(image, scene)
    _draw_furniture(image, rng, scene)
    return scene


def _noise(rng: np.random.Generator, shape: tuple[int, int], sx: float, sy: float) -> np.ndarray:
    """Unit-variance Gaussian noise smoothed with sigmas ``sx``, ``sy``."""
    blurred = cv2.GaussianBlur(rng.standard_normal(shape, dtype=np.float32), (0, 0), sx, sigmaY=sy)
    return blurred / max(float(blurred.std()), 1e-6)


def _draw_facade(image: np.ndarray, rng: np.random.Generator, scene: Scene) -> None:
    """Windows and a door along the building strip, a plinth line at its foot."""
    size, wall = scene.size, scene.wall
    spacing = 22 * scene.pace
    for i, x in enumerate(np.arange(rng.uniform(0, spacing), scene.width, spacing)):
        tone = int(rng.integers(60, 85))
        if i == 2:
            rect(image, (x, wall - 15 * size), (x + 9 * size, wall), tone - 15)
        else:
            rect(image, (x, 4 * size), (x + 10 * size, wall - 6 * size), tone)
    line(image, (0, wall), (scene.width, wall), 100, max(1, round(1.5 * size)))


def _draw_paving(image: np.ndarray, scene: Scene) -> None:
    """Slab seams across the walkway and kerbs along both edges."""
    top, bottom, size = scene.walk_top, scene.walk_bottom, scene.size
    for x in np.arange(8 * scene.pace, scene.width, 18 * scene.pace):
        line(image, (x, top), (x - 3 * size, bottom), 158, 1)
    line(image, (0, (top + bottom) / 2), (scene.width, (top + bottom) / 2), 162, 1)
    kerb = max(1, round(2 * size))
    line(image, (0, top), (scene.width, top), 128, kerb)
    line(image, (0, bottom), (scene.width, bottom), 140, kerb)


def _draw_furniture(image: np.ndarray, rng: np.random.Generator, scene: Scene) -> None:
    """Lamp posts at the walkway's far edge, bushes on the lawns, benches on the near lawn."""
    slot = scene.width / 6
    upper, lower = rng.permutation(6), rng.permutation(6)
    for k in upper[:2]:
        _lamp(image, (k + rng.uniform(0.3, 0.7)) * slot, scene)
    for k in upper[2:4]:
        y = rng.uniform(scene.wall + 4 * scene.size, scene.walk_top - 8 * scene.size)
        _bush(image, rng, (k + 0.5) * slot, y, scene)
    for k in lower[:2]:
        _bench(image, (k + rng.uniform(0.2, 0.5)) * slot, scene)
    _bush(image, rng, (lower[2] + 0.5) * slot, scene.walk_bottom + 0.14 * scene.height, scene)


def _lamp(image: np.ndarray, x: float, scene: Scene) -> None:
    size = scene.size
    line(
        image, (x, scene.walk_top + size), (x, scene.wall + 3 * size), 58, max(1, round(1.5 * size))
    )
    ellipse(image, (x, scene.wall + 3 * size), (3 * size, 1.5 * size), 45)


def _bush(image: np.ndarray, rng: np.random.Generator, x: float, y: float, scene: Scene) -> None:
    size = scene.size
    for _ in range(5):
        centre = (x + rng.uniform(-6, 6) * size, y + rng.uniform(-3, 3) * size)
        circle(image, centre, rng.uniform(3, 6) * size, int(rng.integers(52, 72)))


def _bench(image: np.ndarray, x: float, scene: Scene) -> None:
    size, y = scene.size, scene.walk_bottom + 0.08 * scene.height
    rect(image, (x, y - 5 * size), (x + 24 * size, y - 3 * size), 70)
    rect(image, (x, y), (x + 24 * size, y + 2 * size), 80)
    for leg in (x + 2 * size, x + 22 * size):
        line(image, (leg, y + 2 * size), (leg, y + 6 * size), 60, 1)
