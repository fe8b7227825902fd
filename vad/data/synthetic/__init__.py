"""The built-in ``synthetic`` dataset: a procedurally generated surveillance scene.

A fixed grey camera looks at a building front, a lawn, a horizontal walkway and a second lawn.
Normal footage shows 2-5 pedestrians walking along the walkway in both directions at walking
speed. Test videos add anomalous events: fast cyclists, an oversized vehicle, a person crossing
the lawns and a standing crowd that disperses running. A frame is anomalous iff any part of an
anomalous object is visible in it.

Everything is drawn with OpenCV from ``numpy.random.Generator`` streams derived from ``seed``, so
the same parameters (``SyntheticParams``) give the same pixels. The dataset is written in the
"frames" layout::

    root/training/frames/01/000.jpg ...    normal videos
    root/testing/frames/01/000.jpg ...     test videos
    root/testing/masks/01/000.png ...      per-pixel ground truth: 255 on the anomalous objects
    root/synthetic.npy                     per-frame test labels, concatenated in video order
    root/manifest.json                     parameters and events; written last, atomically

Modules: ``params`` (the parameters), ``scene`` (background), ``objects`` (moving objects and
normal activity), ``anomalies`` (events and their schedule), ``render`` (frames), ``writer``.
"""

from vad.data.synthetic.anomalies import (
    EVENT_TYPES,
    Event,
    plan_test_events,
    plan_video,
    video_labels,
)
from vad.data.synthetic.dataset_writer import generate, is_complete
from vad.data.synthetic.objects import Actor, walkers
from vad.data.synthetic.params import (
    DEFAULTS,
    GENERATOR_VERSION,
    LABELS_FILE,
    MANIFEST_FILE,
    MARKER_FILE,
    SyntheticParams,
)
from vad.data.synthetic.render import render
from vad.data.synthetic.scene import Scene, make_scene

__all__ = [
    "DEFAULTS",
    "EVENT_TYPES",
    "GENERATOR_VERSION",
    "LABELS_FILE",
    "MANIFEST_FILE",
    "MARKER_FILE",
    "Actor",
    "Event",
    "Scene",
    "SyntheticParams",
    "generate",
    "is_complete",
    "make_scene",
    "plan_test_events",
    "plan_video",
    "render",
    "video_labels",
    "walkers",
]
