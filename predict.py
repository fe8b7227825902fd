"""Score videos with a trained model: ``python predict.py ckpt_path=outputs/train/<run>``
(or its ONNX export: ``ckpt_path=<run>/model.onnx``).

The ``vad-predict`` console script runs the same app (``vad.cli.apps``)."""

from vad.cli.apps import predict_app
from vad.cli.extras import exit_if_an_extra_is_missing
from vad.utils.signals import terminate_like_interrupt

if __name__ == "__main__":
    exit_if_an_extra_is_missing()
    terminate_like_interrupt()
    predict_app()
