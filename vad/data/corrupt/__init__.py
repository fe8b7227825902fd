"""Corrupted copies of a dataset, for testing and benchmarking the repair stages.

Reads any dataset through its layout and writes a copy in the ``pixelplay`` layout
(``{training,testing}_videos/<video>/frame_%05d.<ext>``) or the ``frames`` layout
(``{training,testing}/frames/<video>/%05d.<ext>``), always named with the ORIGINAL frame ids. The
corruptions are those of real faulty cameras: single vertically flipped frames, bursts of heavy
Gaussian noise or blur on a few consecutive frames, single dropped frames and trimmed starts.
Everything is drawn from ``seed`` (per video, from the seed and the video's name), so the same
settings give the same copy.

Written beside the videos: ``labels.csv`` (``video,frame,label`` of the kept test frames, read by
the pixelplay and folder layouts; the frames layout also gets ``<root name>.npy``),
``manifest.csv`` (one row per source frame: what was done to it) and ``manifest.json`` (the
settings). The manifest is for tests and benchmarks; the pipeline never reads it.

Modules: ``plan`` (settings, what happens to each frame, ``corrupt_image``) and ``writer`` (the
copy on disk). Command line: ``vad-corrupt`` (``vad.cli.corrupt``).
"""

from vad.data.corrupt.corrupted_writer import FORMATS, JPEG_QUALITY, corrupt_dataset, summary
from vad.data.corrupt.plan import CorruptionSettings, VideoPlan, corrupt_image, plan_video

__all__ = [
    "FORMATS",
    "JPEG_QUALITY",
    "CorruptionSettings",
    "VideoPlan",
    "corrupt_dataset",
    "corrupt_image",
    "plan_video",
    "summary",
]
