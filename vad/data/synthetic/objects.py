"""Moving objects: where they are in each frame; normal activity (pedestrians on the walkway)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vad.data.synthetic.scene import Scene

PERSON_HEIGHT = 20.0  # pixels at 120 px frame height


@dataclass
class Actor:
    """A moving object: foot position per frame (NaN before it appears) and appearance."""

    kind: str  # "person", "cyclist" or "vehicle"
    xs: np.ndarray
    ys: np.ndarray
    height: float  # drawing scale in pixels
    half_width: float  # horizontal extent either side of x
    top: float  # vertical extent above the feet
    tones: tuple[int, int, int]
    facing: int = 1
    phase: float = 0.0
    speed: np.ndarray = field(init=False, repr=False)
    gait: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        step = np.hypot(np.diff(self.xs, prepend=np.nan), np.diff(self.ys, prepend=np.nan))
        self.speed = np.nan_to_num(step)
        self.gait = np.cumsum(self.speed)

    def visible(self, width: int, height: int) -> np.ndarray:
        """Per-frame flag: some part of the object lies inside the frame."""
        with np.errstate(invalid="ignore"):
            return (
                (self.xs + self.half_width > 0)
                & (self.xs - self.half_width < width)
                & (self.ys > 0)
                & (self.ys - self.top < height)
            )

    def describe(self, width: int, height: int) -> dict:
        """Manifest entry: kind, size, tone, visible frames, entry point and final velocity."""
        frames = np.flatnonzero(self.visible(width, height))
        first, last = int(frames[0]), int(frames[-1])
        prev = max(first, last - 1)
        velocity = [self.xs[last] - self.xs[prev], self.ys[last] - self.ys[prev]]
        return {
            "kind": self.kind,
            "height": round(self.height, 2),
            "tone": self.tones[0],
            "first_frame": first,
            "last_frame": last,
            "start": [round(float(self.xs[first]), 2), round(float(self.ys[first]), 2)],
            "velocity": [round(float(v), 3) if np.isfinite(v) else 0.0 for v in velocity],
        }


def track(
    n_frames: int, t0: float, x0: float, y0: float, vx: float, vy: float
) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line motion starting at frame ``t0``; NaN before it."""
    t = np.arange(n_frames) - t0
    return (np.where(t >= 0, x0 + vx * t, np.nan), np.where(t >= 0, y0 + vy * t, np.nan))


def person(rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray, height: float) -> Actor:
    """A pedestrian: dark or light clothes, mid-grey head."""
    body = int(rng.integers(25, 80)) if rng.random() < 0.5 else int(rng.integers(190, 240))
    tones = (body, int(rng.integers(30, 110)), int(rng.integers(105, 150)))
    return Actor(
        "person",
        xs,
        ys,
        height,
        0.32 * height,
        1.08 * height,
        tones,
        phase=rng.uniform(0, 2 * np.pi),
    )


def person_height(rng: np.random.Generator, scene: Scene) -> float:
    return PERSON_HEIGHT * scene.size * rng.uniform(0.9, 1.12)


def entry_x(scene: Scene, direction: int, half_width: float) -> float:
    """Foot x that puts an object just inside the left (moving right) or right edge."""
    return 0.5 - half_width if direction > 0 else scene.width + half_width - 0.5


def walker(
    rng: np.random.Generator, scene: Scene, n_frames: int, t0: int, x0: float | None = None
) -> Actor:
    """A normal pedestrian walking along the walkway, entering at an edge unless ``x0`` is given."""
    height = person_height(rng, scene)
    direction = int(rng.choice((-1, 1)))
    if x0 is None:
        x0 = entry_x(scene, direction, 0.32 * height)
    vx = direction * rng.uniform(0.7, 1.3) * scene.pace
    return person(rng, *track(n_frames, t0, x0, rng.uniform(*scene.lanes), vx, 0.0), height)


def walkers(rng: np.random.Generator, scene: Scene, n_frames: int) -> list[Actor]:
    """Normal activity: 2-5 pedestrians in view at a time, new ones entering at the edges."""
    people = [
        walker(rng, scene, n_frames, 0, rng.uniform(0, scene.width))
        for _ in range(int(rng.integers(2, 5)))
    ]
    count = sum(p.visible(scene.width, scene.height).astype(int) for p in people)
    for t in range(n_frames):
        if count[t] < 2 or (count[t] < 5 and rng.random() < 0.02):
            people.append(walker(rng, scene, n_frames, t))
            count = count + people[-1].visible(scene.width, scene.height)
    return people
