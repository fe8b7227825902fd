"""vad: train, score, fuse and evaluate video anomaly detectors."""

__version__ = "0.1.0"
