"""Checks made before any long work: every test video has a clip, the score column exists, a
data setting given for a modality is one the model reads."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vad.data.cache import CachedVideo
from vad.data.clips import clip_starts, memory_video
from vad.errors import DataError
from vad.scoring.scorer import Scorer

#: data settings that only shape a modality: ``data.<key>`` -> the modality
MODALITY_SETTINGS = {"flow": "flow", "regions": "boxes"}


def check_data_settings_used(keys: Sequence[str], model: object) -> None:
    """A DataError when a given ``data.flow.*`` / ``data.regions.*`` key (command-line
    overrides) shapes a modality the model does not read: the setting would do nothing."""
    for key in keys:
        parts = key.split(".")
        if len(parts) < 2 or parts[0] != "data" or parts[1] not in MODALITY_SETTINGS:
            continue
        modality = MODALITY_SETTINGS[parts[1]]
        if modality not in model.modalities:
            raise DataError(
                f"{key} is set, but {type(model).__name__} reads no {modality} (it reads "
                f"{', '.join(model.modalities)}); drop the setting or choose a model that uses it"
            )


def check_score_column(scorer: Scorer, videos: Sequence[CachedVideo], column: str) -> None:
    """A DataError naming ``scoring.column`` when the model does not write it, found on the
    first clip of the first video before any video is scored."""
    length = int(scorer.model.clip_length)
    video = next(v for v in videos if len(clip_starts(np.asarray(v.frame_ids), length)))
    start = int(clip_starts(np.asarray(video.frame_ids), length)[0])
    names = [name for name in scorer.model.modalities]
    arrays = {name: np.asarray(video.array(name)[start : start + length]) for name in names}
    probe = memory_video(video.video, arrays, np.asarray(video.frame_ids[start : start + length]))
    scores = scorer.score_videos([probe])
    if column not in scores.columns:
        own = [c for c in scores.columns if c not in ("video", "frame", "label", "filled")]
        raise DataError(
            f"scoring.column={column!r} is not a score column of this model; it writes {own}"
        )


def check_clips(videos: Sequence[CachedVideo], clip_length: int) -> None:
    """A DataError naming every video without a run of ``clip_length`` consecutive frames (the
    model could score none of its frames), before any video is scored."""
    short = [v for v in videos if not len(clip_starts(np.asarray(v.frame_ids), clip_length))]
    if short:
        names = ", ".join(f"{v.video!r} ({v.source}, {len(v)} frames)" for v in short)
        raise DataError(
            f"{len(short)} test video(s) have no {clip_length} consecutive frames, the model's "
            f"clip: {names}; remove them or use a model with a shorter clip"
        )
