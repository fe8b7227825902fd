"""Lightning callbacks of training runs."""

from vad.callbacks.sample_images import SamplePredictions

__all__ = ["SamplePredictions"]
