"""What the learned stages share: training frames, one training loop, one weights format.

A learned stage (``LearnedNetwork``) trains once on the training videos (``train_network``). Its
weights are saved as ``<cache_dir>/stages/<kind>-<key>.pt`` (``save_weights``: kind, config,
state_dict, metrics), the key hashing the training videos (paths and content signatures) and the
training settings, so the same videos and settings load the weights instead of training again. A
user-supplied checkpoint (a file written by the same stage) replaces training.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import torch
from torch import nn

from vad.data.sources import FrameFolder, open_source, read_image
from vad.errors import CheckpointError, DataError
from vad.io.atomic import atomic_path
from vad.utils.hashing import stable_hash

WEIGHTS_VERSION = 1
log = logging.getLogger(__name__)


def training_key(train: pd.DataFrame, settings: dict[str, Any]) -> str:
    """Identifies a training run: the training videos' content and the settings."""
    videos = [
        (row.video, os.path.abspath(row.source), open_source(row.source).signature())
        for row in train.itertuples()
    ]
    return stable_hash({"version": WEIGHTS_VERSION, "videos": videos, "settings": settings})


def weights_path(cache_dir: str | Path, kind: str, key: str) -> Path:
    return Path(cache_dir).expanduser() / "stages" / f"{kind}-{key}.pt"


def save_weights(path: Path, kind: str, module: nn.Module, config: dict, metrics: dict) -> None:
    """Write ``{"kind", "config", "state_dict", "metrics"}`` atomically."""
    payload = {
        "kind": kind,
        "config": config,
        "state_dict": module.state_dict(),
        "metrics": metrics,
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_weights(path: str | Path, kind: str) -> dict[str, Any]:
    """A checkpoint written by ``save_weights`` for a stage of this ``kind``."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"{path}: {kind} checkpoint not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path}: cannot read {kind} checkpoint ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("kind") != kind or "state_dict" not in payload:
        raise CheckpointError(f"{path}: not a {kind} checkpoint (one written by the {kind} stage)")
    return payload


def read_stored(path: Path, kind: str) -> dict[str, Any] | None:
    """Weights stored by an earlier run, or None when absent or damaged (then removed, to be
    trained again)."""
    if not path.is_file():
        return None
    try:
        return load_weights(path, kind)
    except CheckpointError as exc:
        log.warning("stored %s weights are damaged (%s); training again", kind, exc)
        path.unlink(missing_ok=True)
        return None


def restore(module: nn.Module, payload: dict[str, Any], path: str | Path) -> nn.Module:
    """Load a checkpoint's weights into ``module`` (eval mode), with an error naming the file."""
    try:
        module.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        reason = str(exc).splitlines()[0]
        raise CheckpointError(f"{path}: weights do not fit the stage's network ({reason})") from exc
    return module.eval()


class LearnedNetwork:
    """A network a stage learns once from the training videos, stored under ``<cache_dir>/stages/``
    and reused, or read from a user-supplied ``checkpoint``.

    Subclasses set ``kind`` (checkpoint kind and file prefix), ``label`` (for log lines),
    ``shape_keys`` (settings a checkpoint's config overrides: the network's shape), the two error
    messages, and implement ``build_net`` (from ``settings``) and ``train_net``; their
    ``__init__`` calls ``init_network``.
    """

    kind: str
    label: str
    shape_keys: tuple[str, ...] = ()
    no_data_message = "needs training videos to learn from, or a checkpoint"
    unfitted_message = "must be fitted before it is used"
    settings: dict[str, Any]

    def init_network(self, checkpoint: str | None) -> None:
        self.checkpoint = str(checkpoint) if checkpoint else None
        self.net: nn.Module | None = None
        self.metrics: dict[str, Any] = {}
        self.weights_file: Path | None = None
        self._trained_on: str | None = None

    def build_net(self) -> nn.Module:
        raise NotImplementedError

    def train_net(self, train: pd.DataFrame) -> tuple[nn.Module, dict[str, Any]]:
        raise NotImplementedError

    def fit_network(self, train: pd.DataFrame, cache_dir: str | Path) -> None:
        """Restore the weights stored for these training videos and settings, or train and store
        them; with a ``checkpoint``, load it instead."""
        if self.checkpoint:
            self.require_net()
            return
        if train.empty:
            raise DataError(self.no_data_message)
        key = training_key(train, self.settings)
        if key == self._trained_on:
            return
        path = weights_path(cache_dir, self.kind, key)
        log.info("%s for %d training videos: %s", self.label, len(train), path)
        payload = read_stored(path, self.kind)
        if payload is not None:
            self._restore(payload, path)
        else:
            self.net, self.metrics = self.train_net(train)
            save_weights(path, self.kind, self.net, self.settings, self.metrics)
            self.weights_file = path
        self._trained_on = key
        log.info("%s %s: %s", self.label, path, self.metrics)

    def _restore(self, payload: dict[str, Any], path: str | Path) -> None:
        config = payload.get("config", {})
        self.settings.update({k: config[k] for k in self.shape_keys if k in config})
        self.net = restore(self.build_net(), payload, path)
        self.metrics, self.weights_file = dict(payload.get("metrics", {})), Path(path)

    def require_net(self) -> nn.Module:
        """The fitted network (read from ``checkpoint`` on first use)."""
        if self.net is None:
            if not self.checkpoint:
                raise RuntimeError(self.unfitted_message)
            self._restore(load_weights(self.checkpoint, self.kind), self.checkpoint)
        assert self.net is not None
        return self.net

    def weights_identity(self) -> str:
        return weights_hash(self.require_net())


def weights_hash(module: nn.Module) -> str:
    """A digest of the weights, identifying a trained network in cache keys."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def sample_frames(train: pd.DataFrame, per_video: int) -> Iterator[tuple[str, np.ndarray]]:
    """``(video, grey frame)`` for up to ``per_video`` evenly spaced frames of each video."""
    if train.empty:
        raise DataError("no training videos to learn from")
    for row in train.itertuples():
        source = open_source(row.source)
        chosen = set(
            np.linspace(0, len(source) - 1, min(per_video, len(source))).round().astype(int)
        )
        if isinstance(source, FrameFolder):
            for position in sorted(chosen):
                yield row.video, read_image(source.files[position], 1)
            continue
        for position, (_, image) in enumerate(source.iter_frames(1)):
            if position in chosen:
                yield row.video, image


def held_out_videos(videos: list[str], fraction: float) -> set[str]:
    """The last ``fraction`` of the videos (at least one when there are two or more)."""
    if len(videos) < 2 or fraction <= 0:
        return set()
    count = min(len(videos) - 1, max(1, round(fraction * len(videos))))
    return set(videos[len(videos) - count :])


def grey(image: np.ndarray) -> np.ndarray:
    """A uint8 (H, W) view of a grey (H, W) or RGB (H, W, 3) frame."""
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def train_network(
    build: Callable[[], nn.Module],
    optimizer: Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer],
    loss: Callable[[nn.Module, torch.Generator], torch.Tensor],
    steps: int,
    lr: float,
    seed: int,
) -> nn.Module:
    """The training loop of every learned stage: a network built under ``seed``, ``steps``
    optimizer steps on a one-cycle schedule peaking at ``lr``. ``loss`` draws its batch from the
    generator it is given (seeded with ``seed``). The global random state is left as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = build()
        opt = optimizer(net.parameters())
        schedule = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps)
        generator = torch.Generator().manual_seed(seed)
        net.train()
        for _ in range(steps):
            value = loss(net, generator)
            opt.zero_grad(set_to_none=True)
            value.backward()
            opt.step()
            schedule.step()
    return net.eval()
