"""vad: train, score, fuse and evaluate video anomaly detectors.

``vad.train``, ``vad.predict`` and ``vad.ensemble`` (``vad.tasks.api``) run the three tasks from
Python with the command line's overrides; they are imported on first use, so ``import vad`` stays
light.
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["ensemble", "predict", "train"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from vad.tasks import api

        return getattr(api, name)
    raise AttributeError(f"module 'vad' has no attribute {name!r}")
