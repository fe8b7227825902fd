"""Export a trained model to ONNX: ``python export.py ckpt_path=outputs/train/<run>``.

The ``vad-export`` console script runs the same app (``vad.cli.apps``)."""

from vad.cli.apps import export_app
from vad.cli.extras import exit_if_an_extra_is_missing
from vad.utils.signals import terminate_like_interrupt

if __name__ == "__main__":
    exit_if_an_extra_is_missing()
    terminate_like_interrupt()
    export_app()
