"""Fuse per-frame scores: ``python ensemble.py members.unet.scores=outputs/predict/<run>``.

The ``vad-ensemble`` console script runs the same app (``vad.cli.apps``)."""

from vad.cli.apps import ensemble_app
from vad.cli.extras import exit_if_an_extra_is_missing
from vad.utils.signals import terminate_like_interrupt

if __name__ == "__main__":
    exit_if_an_extra_is_missing()
    terminate_like_interrupt()
    ensemble_app()
