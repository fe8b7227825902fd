"""Train one anomaly model: ``python train.py model=unet data=ped2 data.root=PATH``.

The ``vad-train`` console script runs the same app (``vad.cli.apps``)."""

from vad.cli.apps import train_app
from vad.cli.extras import exit_if_an_extra_is_missing
from vad.utils.signals import terminate_like_interrupt

if __name__ == "__main__":
    exit_if_an_extra_is_missing()
    terminate_like_interrupt()
    train_app()
