"""Scoring: per-frame errors, score direction, normalisation, smoothing and metrics."""
