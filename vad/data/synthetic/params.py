"""The generator's parameters: one dataclass holds their names, defaults and lower bounds.

``generate``, ``is_complete`` and ``SyntheticLayout`` take them as keyword arguments checked
against it; ``conf/data/synthetic.yaml`` lists the same names and defaults (a test checks it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import numpy as np

from vad.errors import DataError

GENERATOR_VERSION = 2  # 2: per-pixel masks of the test videos
LABELS_FILE = "synthetic.npy"
MANIFEST_FILE = "manifest.json"
MARKER_FILE = ".vad-synthetic"  # marks a folder the generator may overwrite


def _param(default: int, minimum: int) -> int:
    return field(default=default, metadata={"min": minimum})


@dataclass(frozen=True)
class SyntheticParams:
    """What a generated dataset depends on: seed, video counts, video length and frame size."""

    seed: int = _param(0, 0)
    n_train: int = _param(8, 1)
    n_test: int = _param(6, 1)
    n_frames: int = _param(120, 8)
    width: int = _param(160, 32)
    height: int = _param(120, 24)

    def checked(self) -> SyntheticParams:
        """The parameters as plain ints; a ``DataError`` names the first one that is not an
        integer at least its minimum."""
        for f in fields(self):
            value, minimum = getattr(self, f.name), f.metadata["min"]
            if (
                isinstance(value, bool)
                or not isinstance(value, int | np.integer)
                or value < minimum
            ):
                raise DataError(
                    f"synthetic dataset: {f.name} must be an integer >= {minimum}, got {value!r}"
                )
        return SyntheticParams(**{k: int(v) for k, v in asdict(self).items()})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


DEFAULTS = SyntheticParams().as_dict()
