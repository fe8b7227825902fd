"""Ensembles: fuse normalised per-video scores of several models."""
