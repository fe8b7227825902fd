"""Lightning callbacks of training runs."""

from vad.callbacks.ema import WeightEMA
from vad.callbacks.label_free_validation import LabelFreeValidation
from vad.callbacks.sample_images import SamplePredictions
from vad.callbacks.timed_checkpoints import TimedCheckpoints

__all__ = ["LabelFreeValidation", "SamplePredictions", "TimedCheckpoints", "WeightEMA"]
