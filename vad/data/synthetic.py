"""The built-in ``synthetic`` dataset: a procedurally generated surveillance scene.

A fixed grey camera looks at a building front, a lawn, a horizontal walkway and a second lawn.
Normal footage shows 2-5 pedestrians walking along the walkway in both directions at walking
speed. Test videos add anomalous events: fast cyclists, an oversized vehicle, a person crossing
the lawns and a standing crowd that disperses running. A frame is anomalous iff any part of an
anomalous object is visible in it.

Everything is drawn with OpenCV from ``numpy.random.Generator`` streams derived from ``seed``, so
the same parameters give the same pixels. The dataset is written in the "frames" layout::

    root/training/frames/01/000.jpg ...    normal videos
    root/testing/frames/01/000.jpg ...     test videos
    root/synthetic.npy                     per-frame test labels, concatenated in video order
    root/manifest.json                     parameters and events; written last, atomically
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from vad.errors import DataError

EVENT_TYPES = ("fast_mover", "large_object", "off_walkway", "crowd")
DEFAULTS = {"seed": 0, "n_train": 8, "n_test": 6, "n_frames": 120, "width": 160, "height": 120}
GENERATOR_VERSION = 1
LABELS_FILE = "synthetic.npy"
MANIFEST_FILE = "manifest.json"
MARKER_FILE = ".vad-synthetic"  # marks a folder this module may overwrite

_SHIFT = 4  # fixed-point bits for sub-pixel cv2 drawing
_NOISE_SIGMA = 2.0
_JPEG_QUALITY = 95
_TARGET_FRACTION = (0.4, 0.6)  # anomalous share of test frames the schedule aims for
_PLAN_ATTEMPTS = 64
_PERSON_HEIGHT = 20.0  # pixels at 120 px frame height


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


@dataclass
class Event:
    """One anomalous event of a test video."""

    type: str
    actors: list[Actor]
    info: dict

    def labels(self, scene: Scene, n_frames: int) -> np.ndarray:
        flags = np.zeros(n_frames, dtype=bool)
        for actor in self.actors:
            flags |= actor.visible(scene.width, scene.height)
        return flags

    def describe(self, scene: Scene) -> dict:
        frames = np.flatnonzero(self.labels(scene, len(self.actors[0].xs)))
        objects = [a.describe(scene.width, scene.height) for a in self.actors]
        return {
            "type": self.type,
            "first_frame": int(frames[0]),
            "last_frame": int(frames[-1]),
            **self.info,
            "objects": objects,
        }


# ---------------------------------------------------------------------------------------------
# Public API


def generate(
    root: str | Path,
    *,
    seed: int = 0,
    n_train: int = 8,
    n_test: int = 6,
    n_frames: int = 120,
    width: int = 160,
    height: int = 120,
) -> Path:
    """Write the dataset under root (creating it) and return root.

    A previous generation in ``root`` is replaced; any other non-empty folder is refused.
    """
    params = {
        "seed": seed,
        "n_train": n_train,
        "n_test": n_test,
        "n_frames": n_frames,
        "width": width,
        "height": height,
    }
    _check_params(params)
    params = {key: int(value) for key, value in params.items()}
    root = Path(root)
    _prepare(root)
    scene = make_scene(np.random.default_rng([seed, 0]), width, height)
    for i in range(n_train):
        rng = np.random.default_rng([seed, 1, i])
        _write_video(
            root / "training" / "frames" / f"{i + 1:02d}",
            render(scene, walkers(rng, scene, n_frames), n_frames, rng),
        )
    plan = plan_test_events(np.random.default_rng([seed, 2]), scene, n_test, n_frames)
    labels = []
    for i, events in enumerate(plan):
        rng = np.random.default_rng([seed, 3, i])
        actors = walkers(rng, scene, n_frames) + [a for e in events for a in e.actors]
        _write_video(
            root / "testing" / "frames" / f"{i + 1:02d}", render(scene, actors, n_frames, rng)
        )
        labels.append(video_labels(events, scene, n_frames))
    labels = np.concatenate(labels).astype(np.uint8)
    np.save(root / LABELS_FILE, labels)
    _write_manifest(root, params, scene, plan, labels)
    return root


def is_complete(root: str | Path, params: Mapping) -> bool:
    """True when ``root`` holds a finished generation with these parameters (defaults filled in)."""
    try:
        manifest = json.loads((Path(root) / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return False
    return (
        isinstance(manifest, dict)
        and manifest.get("version") == GENERATOR_VERSION
        and manifest.get("params") == {**DEFAULTS, **dict(params)}
    )


# ---------------------------------------------------------------------------------------------
# Scene


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
            _rect(image, (x, wall - 15 * size), (x + 9 * size, wall), tone - 15)
        else:
            _rect(image, (x, 4 * size), (x + 10 * size, wall - 6 * size), tone)
    _line(image, (0, wall), (scene.width, wall), 100, max(1, round(1.5 * size)))


def _draw_paving(image: np.ndarray, scene: Scene) -> None:
    """Slab seams across the walkway and kerbs along both edges."""
    top, bottom, size = scene.walk_top, scene.walk_bottom, scene.size
    for x in np.arange(8 * scene.pace, scene.width, 18 * scene.pace):
        _line(image, (x, top), (x - 3 * size, bottom), 158, 1)
    _line(image, (0, (top + bottom) / 2), (scene.width, (top + bottom) / 2), 162, 1)
    kerb = max(1, round(2 * size))
    _line(image, (0, top), (scene.width, top), 128, kerb)
    _line(image, (0, bottom), (scene.width, bottom), 140, kerb)


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
    _line(
        image, (x, scene.walk_top + size), (x, scene.wall + 3 * size), 58, max(1, round(1.5 * size))
    )
    _ellipse(image, (x, scene.wall + 3 * size), (3 * size, 1.5 * size), 45)


def _bush(image: np.ndarray, rng: np.random.Generator, x: float, y: float, scene: Scene) -> None:
    size = scene.size
    for _ in range(5):
        centre = (x + rng.uniform(-6, 6) * size, y + rng.uniform(-3, 3) * size)
        _circle(image, centre, rng.uniform(3, 6) * size, int(rng.integers(52, 72)))


def _bench(image: np.ndarray, x: float, scene: Scene) -> None:
    size, y = scene.size, scene.walk_bottom + 0.08 * scene.height
    _rect(image, (x, y - 5 * size), (x + 24 * size, y - 3 * size), 70)
    _rect(image, (x, y), (x + 24 * size, y + 2 * size), 80)
    for leg in (x + 2 * size, x + 22 * size):
        _line(image, (leg, y + 2 * size), (leg, y + 6 * size), 60, 1)


# ---------------------------------------------------------------------------------------------
# Actors


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


def _person_height(rng: np.random.Generator, scene: Scene) -> float:
    return _PERSON_HEIGHT * scene.size * rng.uniform(0.9, 1.12)


def _entry_x(scene: Scene, direction: int, half_width: float) -> float:
    """Foot x that puts an object just inside the left (moving right) or right edge."""
    return 0.5 - half_width if direction > 0 else scene.width + half_width - 0.5


def walker(
    rng: np.random.Generator, scene: Scene, n_frames: int, t0: int, x0: float | None = None
) -> Actor:
    """A normal pedestrian walking along the walkway, entering at an edge unless ``x0`` is given."""
    height = _person_height(rng, scene)
    direction = int(rng.choice((-1, 1)))
    if x0 is None:
        x0 = _entry_x(scene, direction, 0.32 * height)
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


# ---------------------------------------------------------------------------------------------
# Anomalous events


def fast_mover(rng: np.random.Generator, scene: Scene, n_frames: int, t0: int) -> Event:
    """One or two cyclists riding along the walkway at 4-6 px/frame (at 160 px width)."""
    riders = []
    for k in range(int(rng.integers(1, 3))):
        height = _person_height(rng, scene)
        direction = int(rng.choice((-1, 1)))
        start = t0 + k * int(rng.integers(8, 20))
        vx = direction * rng.uniform(4, 6) * scene.pace
        xs, ys = track(
            n_frames,
            start,
            _entry_x(scene, direction, 0.6 * height),
            rng.uniform(*scene.lanes),
            vx,
            0.0,
        )
        tones = (int(rng.integers(25, 70)), int(rng.integers(30, 90)), int(rng.integers(105, 150)))
        riders.append(
            Actor("cyclist", xs, ys, height, 0.6 * height, 1.2 * height, tones, facing=direction)
        )
    return Event("fast_mover", riders, {})


def large_object(rng: np.random.Generator, scene: Scene, n_frames: int, t0: int) -> Event:
    """A small truck (about 2.7 x 1.2 person heights) moving along the walkway at walking pace."""
    height = _PERSON_HEIGHT * scene.size * rng.uniform(1.1, 1.35)
    length = _PERSON_HEIGHT * scene.size * rng.uniform(2.4, 3.0)
    direction = int(rng.choice((-1, 1)))
    vx = direction * rng.uniform(0.8, 1.3) * scene.pace
    xs, ys = track(
        n_frames, t0, _entry_x(scene, direction, length / 2), rng.uniform(*scene.lanes), vx, 0.0
    )
    body = int(rng.integers(55, 90)) if rng.random() < 0.5 else int(rng.integers(195, 235))
    tones = (body, 150 if body < 128 else 90, 30)
    vehicle = Actor("vehicle", xs, ys, height, length / 2, height, tones, facing=direction)
    return Event("large_object", [vehicle], {})


def off_walkway(rng: np.random.Generator, scene: Scene, n_frames: int, t0: int) -> Event:
    """A person crossing the lawns: up from the bottom edge, or diagonally down from a side."""
    height = _person_height(rng, scene)
    speed = rng.uniform(1.0, 1.5)
    if rng.random() < 0.5:
        angle = rng.uniform(-0.6, 0.6)  # radians from vertical
        x0, y0 = rng.uniform(0.15, 0.85) * scene.width, scene.height + 1.08 * height - 0.5
        vx, vy = speed * math.sin(angle) * scene.pace, -speed * math.cos(angle) * scene.size
    else:
        direction = int(rng.choice((-1, 1)))
        angle = rng.uniform(0.45, 0.9)  # radians below horizontal
        x0 = _entry_x(scene, direction, 0.32 * height)
        y0 = rng.uniform(scene.wall + 0.8 * height, scene.walk_top - 2 * scene.size)
        vx = direction * speed * math.cos(angle) * scene.pace
        vy = speed * math.sin(angle) * scene.size
    walker_ = person(rng, *track(n_frames, t0, x0, y0, vx, vy), height)
    return Event("off_walkway", [walker_], {})


def crowd(rng: np.random.Generator, scene: Scene, n_frames: int, t0: int) -> Event:
    """5-8 people standing (fidgeting) in a ring on the walkway, then running away radially."""
    count = int(rng.integers(5, 9))
    stand = max(3, round(rng.uniform(0.12, 0.25) * n_frames))
    cx = rng.uniform(0.3, 0.7) * scene.width
    low, high = scene.lanes
    cy = (low + high) / 2
    members = []
    for i in range(count):
        angle = 2 * np.pi * i / count + rng.uniform(-0.3, 0.3)
        height = _person_height(rng, scene)
        radius = rng.uniform(0.6, 1.3) * height
        x0 = cx + radius * math.cos(angle)
        y0 = float(np.clip(cy + 0.35 * radius * math.sin(angle), low, high))
        members.append(
            _crowd_member(
                rng,
                scene,
                n_frames,
                (t0, t0 + stand),
                (x0, y0),
                angle + rng.uniform(-0.25, 0.25),
                height,
            )
        )
    info = {"standing_frames": [t0, t0 + stand - 1], "centre": [round(cx, 2), round(cy, 2)]}
    return Event("crowd", members, info)


def _crowd_member(
    rng: np.random.Generator,
    scene: Scene,
    n_frames: int,
    times: tuple[int, int],
    position: tuple[float, float],
    angle: float,
    height: float,
) -> Actor:
    """Stands swaying slightly from ``times[0]``, runs off at 3-4.5 px/frame from ``times[1]``."""
    start, run = times
    speed = rng.uniform(3, 4.5)
    vx, vy = speed * math.cos(angle) * scene.pace, speed * math.sin(angle) * scene.size
    xs, ys = track(n_frames, run, *position, vx, vy)
    t = np.arange(n_frames)
    standing = (t >= start) & (t < run)
    sway = 0.6 * scene.size * np.sin(2 * np.pi * t / rng.uniform(8, 14) + rng.uniform(0, 6.3))
    xs[standing] = position[0] + sway[standing]
    ys[standing] = position[1]
    return person(rng, xs, ys, height)


EVENT_BUILDERS: dict[str, Callable[..., Event]] = {
    "fast_mover": fast_mover,
    "large_object": large_object,
    "off_walkway": off_walkway,
    "crowd": crowd,
}
# Start windows as fractions of the video length (a crowd is always there from the first frame).
_START_WINDOWS = {
    "fast_mover": (0.1, 0.55),
    "large_object": (0.15, 0.45),
    "off_walkway": (0.3, 0.6),
    "crowd": (0.0, 0.0),
}


def plan_video(rng: np.random.Generator, scene: Scene, n_frames: int, primary: str) -> list[Event]:
    """The events of one test video: ``primary``, sometimes followed by a second, different one."""
    kinds = [primary]
    if rng.random() < 0.35:
        kinds.append(str(rng.choice([k for k in EVENT_TYPES if k not in (primary, "crowd")])))
    events = []
    for kind in kinds:
        low, high = _START_WINDOWS[kind]
        t0 = int(rng.integers(round(low * n_frames), round(high * n_frames) + 1))
        events.append(EVENT_BUILDERS[kind](rng, scene, n_frames, t0))
    events = [_visible_only(e, scene) for e in events]
    return [e for e in events if e.actors]


def _visible_only(event: Event, scene: Scene) -> Event:
    shown = [a for a in event.actors if a.visible(scene.width, scene.height).any()]
    return Event(event.type, shown, event.info)


def video_labels(events: list[Event], scene: Scene, n_frames: int) -> np.ndarray:
    """Per-frame labels of a test video: 1 while any anomalous object is visible."""
    flags = np.zeros(n_frames, dtype=bool)
    for event in events:
        flags |= event.labels(scene, n_frames)
    return flags.astype(np.uint8)


def plan_test_events(
    rng: np.random.Generator, scene: Scene, n_test: int, n_frames: int
) -> list[list[Event]]:
    """Events of every test video; event types cycle over a seeded order of all four.

    Schedules are redrawn until the anomalous share of test frames lies in the target range and
    every video has both normal and anomalous frames (else the closest draw is kept).
    """
    order = [str(k) for k in rng.permutation(EVENT_TYPES)]
    best, best_cost = None, math.inf
    for _ in range(_PLAN_ATTEMPTS):
        plan = [plan_video(rng, scene, n_frames, order[i % 4]) for i in range(n_test)]
        labels = [video_labels(events, scene, n_frames) for events in plan]
        fraction = float(np.concatenate(labels).mean())
        low, high = _TARGET_FRACTION
        cost = max(low - fraction, fraction - high, 0) + sum(
            lab.all() or not lab.any() for lab in labels
        )
        if cost < best_cost:
            best, best_cost = plan, cost
        if cost == 0:
            break
    return best


# ---------------------------------------------------------------------------------------------
# Drawing


def _pt(point: tuple[float, float]) -> tuple[int, int]:
    return round(point[0] * (1 << _SHIFT)), round(point[1] * (1 << _SHIFT))


def _line(image: np.ndarray, a: tuple, b: tuple, tone: int, thickness: int) -> None:
    cv2.line(image, _pt(a), _pt(b), tone, thickness, cv2.LINE_AA, _SHIFT)


def _circle(image: np.ndarray, centre: tuple, radius: float, tone: int, width: int = -1) -> None:
    cv2.circle(image, _pt(centre), round(radius * (1 << _SHIFT)), tone, width, cv2.LINE_AA, _SHIFT)


def _ellipse(image: np.ndarray, centre: tuple, axes: tuple, tone: int, angle: float = 0) -> None:
    cv2.ellipse(image, _pt(centre), _pt(axes), angle, 0, 360, tone, -1, cv2.LINE_AA, _SHIFT)


def _rect(image: np.ndarray, a: tuple, b: tuple, tone: int) -> None:
    corners = np.array([_pt(a), _pt((b[0], a[1])), _pt(b), _pt((a[0], b[1]))], dtype=np.int32)
    cv2.fillConvexPoly(image, corners, tone, cv2.LINE_AA, _SHIFT)


def draw_person(image: np.ndarray, actor: Actor, t: int) -> None:
    """Head circle, body ellipse and two swinging legs; wider strides when running."""
    x, y, h = actor.xs[t], actor.ys[t], actor.height
    body, legs, head = actor.tones
    amplitude = min(0.28, 0.12 + 0.05 * actor.speed[t]) * h
    swing = amplitude * math.sin(actor.phase + 2 * math.pi * actor.gait[t] / (0.9 * h))
    hip, thickness = (x, y - 0.42 * h), max(1, round(0.1 * h))
    _line(image, hip, (x + swing, y), legs, thickness)
    _line(image, hip, (x - swing, y), legs, thickness)
    _ellipse(image, (x, y - 0.64 * h), (0.18 * h, 0.24 * h), body)
    _circle(image, (x, y - 0.96 * h), 0.11 * h, head)


def draw_cyclist(image: np.ndarray, actor: Actor, t: int) -> None:
    """Two wheels, a frame and a rider leaning forward with pedalling legs."""
    x, y, h, d = actor.xs[t], actor.ys[t], actor.height, actor.facing
    bike, body, head = actor.tones
    radius, thin = 0.2 * h, max(1, round(0.07 * h))
    rear, front = (x - 0.38 * h * d, y - radius), (x + 0.38 * h * d, y - radius)
    crank = (x, y - radius)
    seat, bar = (x - 0.1 * h * d, y - 0.55 * h), (x + 0.3 * h * d, y - 0.62 * h)
    for wheel in (rear, front):
        _circle(image, wheel, radius, bike, thin)
    for a, b in ((rear, crank), (crank, seat), (seat, rear), (crank, bar), (bar, front)):
        _line(image, a, b, bike, thin)
    angle = actor.gait[t] / (0.15 * h)
    pedal = (x + 0.14 * h * math.cos(angle), y - radius + 0.14 * h * math.sin(angle))
    shoulder = (x + 0.12 * h * d, y - 0.95 * h)
    _line(image, seat, pedal, body, max(1, round(0.1 * h)))
    _line(image, seat, shoulder, body, max(1, round(0.18 * h)))
    _line(image, shoulder, bar, body, thin)
    _circle(image, (x + 0.2 * h * d, y - 1.08 * h), 0.1 * h, head)


def draw_vehicle(image: np.ndarray, actor: Actor, t: int) -> None:
    """A box body with a windowed cab at the front, a slatted cargo bed behind and two wheels."""
    x, y, h, d, half = actor.xs[t], actor.ys[t], actor.height, actor.facing, actor.half_width
    body, window, wheel = actor.tones
    _rect(image, (x - half, y - h), (x + half, y - 0.18 * h), body)
    cab = sorted((x + d * 0.1 * half, x + d * 0.85 * half))
    _rect(image, (cab[0], y - 0.9 * h), (cab[1], y - 0.55 * h), window)
    for slat in np.arange(0.15 * h, 0.95 * half, 0.16 * h):
        _line(image, (x - d * slat, y - 0.92 * h), (x - d * slat, y - 0.3 * h), window, 1)
    _line(image, (x - half, y - 0.3 * h), (x + half, y - 0.3 * h), window, 1)
    for wx in (x - 0.6 * half, x + 0.6 * half):
        _circle(image, (wx, y - 0.18 * h), 0.18 * h, wheel)


_DRAW = {"person": draw_person, "cyclist": draw_cyclist, "vehicle": draw_vehicle}


def render(
    scene: Scene, actors: list[Actor], n_frames: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """Frames of one video: background, visible actors drawn far to near, Gaussian sensor noise."""
    shown = [a.visible(scene.width, scene.height) for a in actors]
    for t in range(n_frames):
        frame = scene.background.copy()
        present = [a for a, flags in zip(actors, shown, strict=True) if flags[t]]
        for actor in sorted(present, key=lambda a: a.ys[t]):
            _DRAW[actor.kind](frame, actor, t)
        noise = rng.standard_normal(frame.shape, dtype=np.float32) * _NOISE_SIGMA
        yield np.clip(np.rint(frame + noise), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Files


def _check_params(params: dict) -> None:
    for key, minimum in (
        ("seed", 0),
        ("n_train", 1),
        ("n_test", 1),
        ("n_frames", 8),
        ("width", 32),
        ("height", 24),
    ):
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
            raise DataError(
                f"synthetic dataset: {key} must be an integer >= {minimum}, got {value!r}"
            )


def _prepare(root: Path) -> None:
    """Create ``root``, or clear a previous generation; never write into a foreign folder."""
    if root.exists() and not root.is_dir():
        raise DataError(f"{root}: exists and is not a folder; cannot write the synthetic dataset")
    if root.is_dir() and any(root.iterdir()) and not (root / MARKER_FILE).exists():
        raise DataError(
            f"{root}: folder is not empty and holds no synthetic dataset; refusing to write into it"
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER_FILE).write_text("generated by vad.data.synthetic\n")
    (root / MANIFEST_FILE).unlink(missing_ok=True)
    (root / LABELS_FILE).unlink(missing_ok=True)
    for split in ("training", "testing"):
        shutil.rmtree(root / split, ignore_errors=True)


def _write_video(folder: Path, frames: Iterator[np.ndarray]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for t, frame in enumerate(frames):
        path = folder / f"{t:03d}.jpg"
        if not cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY]):
            raise DataError(f"{path}: cannot write frame image")


def _write_manifest(
    root: Path, params: dict, scene: Scene, plan: list[list[Event]], labels: np.ndarray
) -> None:
    """Write ``manifest.json`` atomically: its presence means the dataset is complete."""
    manifest = {
        "dataset": "synthetic",
        "version": GENERATOR_VERSION,
        "params": params,
        "layout": "frames",
        "labels": LABELS_FILE,
        "scene": {
            "wall": round(scene.wall, 2),
            "walkway": [round(scene.walk_top, 2), round(scene.walk_bottom, 2)],
        },
        "anomalous_fraction": round(float(labels.mean()), 4),
        "events": {
            f"{i + 1:02d}": _describe_events(events, scene) for i, events in enumerate(plan)
        },
    }
    tmp = root / f".{MANIFEST_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, root / MANIFEST_FILE)


def _describe_events(events: list[Event], scene: Scene) -> list[dict]:
    """Manifest entries of a video's events, in order of appearance."""
    return sorted((e.describe(scene) for e in events), key=lambda d: d["first_frame"])
