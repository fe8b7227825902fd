"""Which labelled videos tune the ensemble and which ones measure it.

Leakage-free by default: the sweep's objective is computed on the *tune* videos only and the
metrics are reported on the other (*eval*) videos. Video sets are drawn with a seed, stratified by
whether a video holds both normal and anomalous frames, so that both sets can be evaluated.
``cv_folds=k`` deals the videos into k folds the same way (each fold gets a two-class video).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vad.ensembles.ensemble_options import EnsembleConfigError
from vad.utils.sorting import natural_key


@dataclass(frozen=True)
class Split:
    """Tune and eval videos; ``leaky`` when they are the same videos."""

    name: str
    tune: tuple[str, ...]
    eval: tuple[str, ...]

    @property
    def leaky(self) -> bool:
        return bool(set(self.tune) & set(self.eval))


def video_classes(frame: pd.DataFrame) -> dict[str, bool]:
    """Video id -> whether it has both classes, in natural video order."""
    both = frame.groupby("video", sort=False)["label"].agg(lambda s: s.nunique() == 2)
    return {str(v): bool(both[v]) for v in sorted(both.index, key=natural_key)}


def tune_eval_split(
    classes: dict[str, bool], tune_videos: float | str | tuple[str, ...], seed: int = 0
) -> Split:
    """The tune/eval split for ``tune_videos`` (a fraction, ids or "all")."""
    videos = list(classes)
    if tune_videos == "all":
        everything = tuple(videos)
        return Split(
            "all videos (tuned and reported on the same videos: optimistic)", everything, everything
        )
    if isinstance(tune_videos, tuple):
        tune = _match(tune_videos, videos)
    else:
        tune = _stratified_pick(classes, float(tune_videos), seed)
    held_out = tuple(v for v in videos if v not in tune)
    if not held_out:
        raise EnsembleConfigError(
            "tune_videos selects every video: none is left to report on "
            "(tune_videos=all tunes and reports on the same videos, an optimistic estimate)"
        )
    _need_two_class(classes, tune, "tune videos")
    _need_two_class(classes, held_out, "eval videos")
    return Split("tune/eval", tune, held_out)


def kfold_splits(classes: dict[str, bool], k: int, seed: int = 0) -> list[Split]:
    """k splits whose eval sets are disjoint folds of videos covering all videos."""
    two_class = [v for v, both in classes.items() if both]
    if k > len(two_class):
        raise EnsembleConfigError(
            f"cv_folds={k} needs at least {k} videos with both normal and anomalous frames; "
            f"there are {len(two_class)}"
        )
    rng = np.random.default_rng(seed)
    one_class = [v for v, both in classes.items() if not both]
    order = list(rng.permutation(two_class)) + list(rng.permutation(one_class))
    folds: list[list[str]] = [[] for _ in range(k)]
    for i, video in enumerate(order):
        folds[i % k].append(str(video))
    videos = list(classes)
    splits = []
    for i, fold in enumerate(folds):
        held_out = tuple(v for v in videos if v in fold)
        tune = tuple(v for v in videos if v not in fold)
        splits.append(Split(f"fold {i + 1}/{k}", tune, held_out))
    return splits


def _stratified_pick(classes: dict[str, bool], fraction: float, seed: int) -> tuple[str, ...]:
    rng = np.random.default_rng(seed)
    chosen: set[str] = set()
    for both in (True, False):
        stratum = [v for v, b in classes.items() if b == both]
        n = round(fraction * len(stratum))
        if both and len(stratum) >= 2:
            n = min(max(n, 1), len(stratum) - 1)
        chosen.update(str(v) for v in rng.permutation(stratum)[:n])
    return tuple(v for v in classes if v in chosen)


def _match(given: Sequence[str], videos: list[str]) -> tuple[str, ...]:
    """Video ids as given (``1`` matches ``01``); unknown ids are an error."""
    found = []
    for wanted in given:
        hits = [
            v
            for v in videos
            if v == wanted or (v.isdigit() and wanted.isdigit() and int(v) == int(wanted))
        ]
        if not hits:
            raise EnsembleConfigError(
                f"tune_videos: video {wanted!r} is not scored (videos: {videos})"
            )
        found += hits
    return tuple(v for v in videos if v in set(found))


def _need_two_class(classes: dict[str, bool], videos: tuple[str, ...], what: str) -> None:
    if not any(classes[v] for v in videos):
        raise EnsembleConfigError(
            f"the {what} {list(videos)} have no video with both normal and anomalous frames, "
            "so no metric can be computed on them; choose other tune_videos"
        )
