"""Drawing the moving objects over the background, with sensor noise."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from vad.data.synthetic.draw import circle, ellipse, line, rect
from vad.data.synthetic.objects import Actor
from vad.data.synthetic.scene import Scene

_NOISE_SIGMA = 2.0


def draw_person(image: np.ndarray, actor: Actor, t: int) -> None:
    """Head circle, body ellipse and two swinging legs; wider strides when running."""
    x, y, h = actor.xs[t], actor.ys[t], actor.height
    body, legs, head = actor.tones
    amplitude = min(0.28, 0.12 + 0.05 * actor.speed[t]) * h
    swing = amplitude * math.sin(actor.phase + 2 * math.pi * actor.gait[t] / (0.9 * h))
    hip, thickness = (x, y - 0.42 * h), max(1, round(0.1 * h))
    line(image, hip, (x + swing, y), legs, thickness)
    line(image, hip, (x - swing, y), legs, thickness)
    ellipse(image, (x, y - 0.64 * h), (0.18 * h, 0.24 * h), body)
    circle(image, (x, y - 0.96 * h), 0.11 * h, head)


def draw_cyclist(image: np.ndarray, actor: Actor, t: int) -> None:
    """Two wheels, a frame and a rider leaning forward with pedalling legs."""
    x, y, h, d = actor.xs[t], actor.ys[t], actor.height, actor.facing
    bike, body, head = actor.tones
    radius, thin = 0.2 * h, max(1, round(0.07 * h))
    rear, front = (x - 0.38 * h * d, y - radius), (x + 0.38 * h * d, y - radius)
    crank = (x, y - radius)
    seat, bar = (x - 0.1 * h * d, y - 0.55 * h), (x + 0.3 * h * d, y - 0.62 * h)
    for wheel in (rear, front):
        circle(image, wheel, radius, bike, thin)
    for a, b in ((rear, crank), (crank, seat), (seat, rear), (crank, bar), (bar, front)):
        line(image, a, b, bike, thin)
    angle = actor.gait[t] / (0.15 * h)
    pedal = (x + 0.14 * h * math.cos(angle), y - radius + 0.14 * h * math.sin(angle))
    shoulder = (x + 0.12 * h * d, y - 0.95 * h)
    line(image, seat, pedal, body, max(1, round(0.1 * h)))
    line(image, seat, shoulder, body, max(1, round(0.18 * h)))
    line(image, shoulder, bar, body, thin)
    circle(image, (x + 0.2 * h * d, y - 1.08 * h), 0.1 * h, head)


def draw_vehicle(image: np.ndarray, actor: Actor, t: int) -> None:
    """A box body with a windowed cab at the front, a slatted cargo bed behind and two wheels."""
    x, y, h, d, half = actor.xs[t], actor.ys[t], actor.height, actor.facing, actor.half_width
    body, window, wheel = actor.tones
    rect(image, (x - half, y - h), (x + half, y - 0.18 * h), body)
    cab = sorted((x + d * 0.1 * half, x + d * 0.85 * half))
    rect(image, (cab[0], y - 0.9 * h), (cab[1], y - 0.55 * h), window)
    for slat in np.arange(0.15 * h, 0.95 * half, 0.16 * h):
        line(image, (x - d * slat, y - 0.92 * h), (x - d * slat, y - 0.3 * h), window, 1)
    line(image, (x - half, y - 0.3 * h), (x + half, y - 0.3 * h), window, 1)
    for wx in (x - 0.6 * half, x + 0.6 * half):
        circle(image, (wx, y - 0.18 * h), 0.18 * h, wheel)


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


def render_masks(scene: Scene, actors: list[Actor], n_frames: int) -> Iterator[np.ndarray]:
    """uint8 (H, W) masks of one video, 255 where one of ``actors`` (the anomalous objects) is
    drawn (occluded parts included, as in UCSD's masks), 0 elsewhere."""
    solid = [replace(a, tones=(255, 255, 255)) for a in actors]
    shown = [a.visible(scene.width, scene.height) for a in solid]
    for t in range(n_frames):
        mask = np.zeros_like(scene.background)
        for actor, flags in zip(solid, shown, strict=True):
            if flags[t]:
                _DRAW[actor.kind](mask, actor, t)
        yield np.where(mask > 0, 255, 0).astype(np.uint8)
