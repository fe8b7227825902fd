"""A trained model -> ``model.onnx`` (``vad.deploy.graph``) and its sidecar ``model.json``:
everything inference needs besides the graph (clip length, input size and channels, the score
columns and the model's own with its orientation, the fitted normal statistics, the data and
scoring settings of the run). Checked on export: ONNX Runtime and torch agree on example clips.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vad.deploy.graph import MAPS_OUTPUT, ScoringGraph, check_exportable, example_inputs
from vad.deploy.runtime import inference_session
from vad.errors import CheckpointError
from vad.io.atomic import atomic_path, write_json
from vad.models.base import VADModule
from vad.models.contract import model_name

#: the sidecar's format; a runtime refuses another
FORMAT = 1
#: the opset graphs are written with (ONNX Runtime 1.14+ runs it)
OPSET = 17


def sidecar_path(onnx_path: str | Path) -> Path:
    """``model.json`` beside ``model.onnx``."""
    return Path(onnx_path).with_suffix(".json")


def export_onnx(
    model: VADModule,
    meta: Mapping[str, Any],
    path: str | Path,
    opset: int = OPSET,
    tolerance: float = 1e-3,
) -> dict[str, Any]:
    """Write ``path`` (ONNX) and its sidecar; returns the sidecar. A CheckpointError when the
    model has no graph, or when ONNX Runtime's scores differ from torch's by more than
    ``tolerance`` (relative to the column's largest value) on example clips."""
    path = Path(path)
    check_exportable(model, str(meta.get("checkpoint", path)))
    model = model.cpu().eval().requires_grad_(False)
    graph = ScoringGraph(model)
    example = example_inputs(model)
    columns = graph.columns(example)
    with torch.inference_mode():
        positions = [int(p) for p in graph.prediction(*example).positions]
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python-side shape logic
        torch.onnx.export(
            graph,
            example,
            str(tmp),
            input_names=graph.names,
            output_names=[*columns, MAPS_OUTPUT],
            dynamic_axes={name: {0: "batch"} for name in graph.names},
            dynamo=False,
            opset_version=opset,
        )
    difference = parity(graph, example, path)
    if difference > tolerance:
        path.unlink()
        raise CheckpointError(
            f"{path}: ONNX Runtime's scores differ from torch's by {difference:.2e} "
            f"(relative; tolerance {tolerance:g}); the graph is not written"
        )
    sidecar = describe(model, meta, graph.names, columns, positions, opset)
    sidecar["parity"] = difference
    write_json(sidecar, sidecar_path(path))
    return sidecar


def describe(
    model: VADModule,
    meta: Mapping[str, Any],
    inputs: list[str],
    columns: list[str],
    positions: list[int],
    opset: int,
) -> dict[str, Any]:
    """The sidecar of ``model``'s graph."""
    finalize = getattr(model, "deployed_finalize", None)
    function, arguments = finalize() if finalize else (None, {})
    return {
        "format": FORMAT,
        "opset": opset,
        "model": {"_target_": meta["model"]["_target_"], "name": model_name(model)},
        "contract": model.contract.describe(),
        "inputs": inputs,
        "outputs": columns,
        "maps_output": MAPS_OUTPUT,
        "positions": positions,
        "clip_length": int(model.clip_length),
        "image_size": list(model.image_size),
        "channels": int(model.channels),
        "patch_size": int(model.patch_size),
        "modalities": list(model.modalities),
        "finalize": {"function": function, "arguments": arguments} if function else None,
        "score_stats": model.fitted.score_stats,
        "data": dict(meta.get("data") or {}),
        "scoring": meta.get("scoring"),
        "checkpoint": str(meta.get("checkpoint", "")),
    }


def parity(graph: ScoringGraph, example: tuple[torch.Tensor, ...], path: Path) -> float:
    """The largest difference between ONNX Runtime's and torch's outputs on ``example``, each
    relative to the largest magnitude of its output (NaN where both are NaN counts as equal)."""
    session = inference_session(path)
    ran = session.run(None, {n: e.numpy() for n, e in zip(graph.names, example, strict=True)})
    with torch.inference_mode():
        reference = [t.numpy() for t in graph(*example)]
    worst = 0.0
    for got, want in zip(ran, reference, strict=True):
        both_nan = np.isnan(got) & np.isnan(want)
        if (np.isnan(got) != np.isnan(want)).any():
            return float("inf")
        diff = np.abs(np.where(both_nan, 0.0, got - want))
        scale = max(float(np.nanmax(np.abs(want), initial=0.0)), 1e-12)
        worst = max(worst, float(diff.max(initial=0.0)) / scale)
    return worst
