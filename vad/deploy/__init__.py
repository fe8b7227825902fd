"""Deployment: a trained model as an ONNX graph of its per-frame scores (``export``) and the
same model on ONNX Runtime (``runtime``), scored by the one scorer without Lightning."""
