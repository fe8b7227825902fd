"""An exported model on ONNX Runtime, in the model's place for the one scorer.

``OnnxModel`` has what ``vad.scoring.scorer.Scorer`` and streaming inference read of a model
(clip length, modalities, contract, fitted statistics, ``predict_clips``, ``frame_scores``,
``finalize_scores``), read from ``model.onnx`` and its sidecar ``model.json``
(``vad.deploy.onnx_export``). Nothing here imports Lightning.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from vad.data.batch import ClipBatch
from vad.errors import CheckpointError, VADError
from vad.models.contract import ModelContract
from vad.models.prediction import Prediction

#: the sidecar format this runtime reads
FORMAT = 1


def _onnxruntime() -> Any:
    """The ``onnxruntime`` module; a one-line error when the extra is missing."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise VADError("ONNX inference needs onnxruntime: pip install 'vad[export]'") from exc
    return onnxruntime


def inference_session(
    path: str | Path, providers: list[str] | None = None, threads: int = 0
) -> Any:
    """An ONNX Runtime session of ``path`` (``threads``: intra-op threads, 0: the runtime's
    choice)."""
    onnxruntime = _onnxruntime()
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: no optimiser notes on the console
    options.intra_op_num_threads = int(threads)
    return onnxruntime.InferenceSession(
        str(path), options, providers=providers or ["CPUExecutionProvider"]
    )


@dataclass
class DeployedStatistics:
    """What the exported model learned about its validation videos (the train statistics)."""

    score_stats: dict[str, Any] | None = None


class OnnxModel:
    """``model.onnx`` with its sidecar, scored like the model it was exported from."""

    objects = None  # whole frames (models on object crops are not exported)
    training = False

    def __init__(self, path: str | Path, sidecar: Mapping[str, Any], providers: list[str]) -> None:
        self.path, self.sidecar = Path(path), dict(sidecar)
        self.session = inference_session(self.path, providers)
        self.clip_length = int(sidecar["clip_length"])
        self.image_size = tuple(int(v) for v in sidecar["image_size"])
        self.channels = int(sidecar["channels"])
        self.modalities = tuple(sidecar["modalities"])
        self.inputs, self.outputs = list(sidecar["inputs"]), list(sidecar["outputs"])
        self.positions = [int(p) for p in sidecar["positions"]]
        contract = sidecar["contract"]
        self.contract = ModelContract(
            contract["score_column"], tuple(contract["modalities"]), bool(contract["one_pass"])
        )
        self.fitted = DeployedStatistics(sidecar.get("score_stats"))
        self._patch_size = int(sidecar["patch_size"])
        self._finalize = _finalizer(sidecar.get("finalize"), self.path)
        self.device = torch.device("cpu")

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> OnnxModel:
        """The model of ``path`` (``model.onnx``; ``model.json`` beside it)."""
        path = Path(path)
        sidecar = read_sidecar(path)
        return cls(path, sidecar, providers_for(device))

    @property
    def patch_size(self) -> int:
        return self._patch_size

    @patch_size.setter
    def patch_size(self, value: int) -> None:
        if int(value) != self._patch_size:
            raise CheckpointError(
                f"{self.path}: scoring.patch_size={value} differs from the exported graph's "
                f"({self._patch_size}); export again with model.patch_size={value}"
            )

    # ---- what the scorer and the stream call ------------------------------------------------
    def to(self, device: Any) -> OnnxModel:
        return self

    def eval(self) -> OnnxModel:
        return self

    def train(self, mode: bool = True) -> OnnxModel:
        return self

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> ClipBatch:
        """The batch as loaded (uint8 frames): the graph converts them itself."""
        return ClipBatch.of(batch)

    def predict_clips(self, batch: ClipBatch) -> Prediction:
        """The graph's score columns and error maps of a clip batch."""
        feed = {name: _array(getattr(batch, name)) for name in self.inputs}
        *columns, maps = self.session.run(None, feed)
        scores = {name: torch.from_numpy(v) for name, v in zip(self.outputs, columns, strict=True)}
        empty = torch.empty(0)
        return Prediction(
            empty,
            empty,
            positions=tuple(self.positions),
            extra=scores,
            video=list(batch.video),
            frame_ids=batch.frame_ids[:, self.positions],
            maps=torch.from_numpy(maps),
        )

    def frame_scores(self, out: Prediction) -> dict[str, torch.Tensor]:
        return {name: out.extra[name] for name in self.outputs}

    def finalize_scores(self, scores: pd.DataFrame) -> pd.DataFrame:
        return self._finalize(scores) if self._finalize else scores


def read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar of ``path``, checked: the graph and its JSON exist and the format is known."""
    sidecar = path.with_suffix(".json")
    for needed in (path, sidecar):
        if not needed.is_file():
            raise CheckpointError(
                f"{needed}: not found; an exported model is model.onnx with model.json beside "
                "it (python export.py ckpt_path=<run>)"
            )
    try:
        found = json.loads(sidecar.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{sidecar}: not valid JSON ({exc})") from exc
    if found.get("format") != FORMAT:
        raise CheckpointError(
            f"{sidecar}: format {found.get('format')!r} is not {FORMAT}; export the model again"
        )
    return found


def providers_for(device: str) -> list[str]:
    """ONNX Runtime providers for ``infer.device`` (auto: CUDA when this runtime has it)."""
    available = _onnxruntime().get_available_providers()
    wants_cuda = device == "auto" or str(device).startswith("cuda")
    if wants_cuda and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if str(device).startswith("cuda"):
        raise CheckpointError(f"infer.device={device}: this ONNX Runtime has no CUDA provider")
    return ["CPUExecutionProvider"]


def _finalizer(
    spec: Mapping[str, Any] | None, where: Path
) -> Callable[[pd.DataFrame], pd.DataFrame] | None:
    """The model's ``finalize_scores`` as its sidecar names it (a function of ``vad.models``)."""
    if not spec:
        return None
    module, _, name = str(spec["function"]).rpartition(".")
    if not module.startswith("vad.models."):
        raise CheckpointError(f"{where}: finalize function {spec['function']!r} is not vad's")
    function = getattr(importlib.import_module(module), name)
    arguments = dict(spec.get("arguments") or {})
    return lambda scores: function(scores, **arguments)


def _array(value: torch.Tensor | None) -> np.ndarray:
    if value is None:
        raise CheckpointError("the clip batch lacks an input of the exported graph")
    if value.dtype != torch.uint8:  # stored flow is float16; the graph takes float32 (exact)
        value = value.float()
    return value.detach().cpu().numpy()
