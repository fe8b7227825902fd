"""Anomalous events of the test videos and the schedule that places them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vad.data.synthetic.objects import (
    PERSON_HEIGHT,
    Actor,
    entry_x,
    person,
    person_height,
    track,
)
from vad.data.synthetic.scene import Scene

EVENT_TYPES = ("fast_mover", "large_object", "off_walkway", "crowd")
_TARGET_FRACTION = (0.4, 0.6)  # anomalous share of test frames the schedule aims for
_PLAN_ATTEMPTS = 64


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


def fast_mover(rng: np.random.Generator, scene: Scene, n_frames: int, t0: int) -> Event:
    """One or two cyclists riding along the walkway at 4-6 px/frame (at 160 px width)."""
    riders = []
    for k in range(int(rng.integers(1, 3))):
        height = person_height(rng, scene)
        direction = int(rng.choice((-1, 1)))
        start = t0 + k * int(rng.integers(8, 20))
        vx = direction * rng.uniform(4, 6) * scene.pace
        xs, ys = track(
            n_frames,
            start,
            entry_x(scene, direction, 0.6 * height),
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
    height = PERSON_HEIGHT * scene.size * rng.uniform(1.1, 1.35)
    length = PERSON_HEIGHT * scene.size * rng.uniform(2.4, 3.0)
    direction = int(rng.choice((-1, 1)))
    vx = direction * rng.uniform(0.8, 1.3) * scene.pace
    xs, ys = track(
        n_frames, t0, entry_x(scene, direction, length / 2), rng.uniform(*scene.lanes), vx, 0.0
    )
    body = int(rng.integers(55, 90)) if rng.random() < 0.5 else int(rng.integers(195, 235))
    tones = (body, 150 if body < 128 else 90, 30)
    vehicle = Actor("vehicle", xs, ys, height, length / 2, height, tones, facing=direction)
    return Event("large_object", [vehicle], {})


def off_walkway(rng: np.random.Generator, scene: Scene, n_frames: int, t0: int) -> Event:
    """A person crossing the lawns: up from the bottom edge, or diagonally down from a side."""
    height = person_height(rng, scene)
    speed = rng.uniform(1.0, 1.5)
    if rng.random() < 0.5:
        angle = rng.uniform(-0.6, 0.6)  # radians from vertical
        x0, y0 = rng.uniform(0.15, 0.85) * scene.width, scene.height + 1.08 * height - 0.5
        vx, vy = speed * math.sin(angle) * scene.pace, -speed * math.cos(angle) * scene.size
    else:
        direction = int(rng.choice((-1, 1)))
        angle = rng.uniform(0.45, 0.9)  # radians below horizontal
        x0 = entry_x(scene, direction, 0.32 * height)
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
        height = person_height(rng, scene)
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
