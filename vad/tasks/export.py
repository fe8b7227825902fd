"""Export a trained model to ONNX: ``python export.py ckpt_path=<run>`` (``vad-export``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from vad.deploy.onnx_export import export_onnx, sidecar_path
from vad.errors import CheckpointError
from vad.models.checkpoint import load_model, resolve_checkpoint
from vad.tasks.printing import console
from vad.utils.console import console_copied_to, quiet_library_noise

#: the graph's file name in the output folder
ONNX_FILE = "model.onnx"


def export(cfg: DictConfig) -> dict[str, Any]:
    """Write ``model.onnx`` and ``model.json`` for ``cfg.ckpt_path``; returns the sidecar."""
    quiet_library_noise()
    with console_copied_to(Path(cfg.paths.output_dir) / f"{cfg.task_name}.log"):
        if cfg.get("ckpt_path") is None:
            raise CheckpointError("export needs ckpt_path=<checkpoint or training run folder>")
        ckpt = resolve_checkpoint(cfg.ckpt_path)
        model, meta = load_model(ckpt)
        folder = Path(cfg.output_dir) if cfg.get("output_dir") else run_folder(ckpt)
        path = folder / ONNX_FILE
        sidecar = export_onnx(
            model, {**meta, "checkpoint": str(ckpt)}, path, int(cfg.opset), float(cfg.tolerance)
        )
        columns = ", ".join(sidecar["outputs"])
        console.print(
            f"exported {sidecar['model']['name']} from {ckpt} -> {path} and "
            f"{sidecar_path(path).name} (columns {columns}; ONNX Runtime vs torch: "
            f"{sidecar['parity']:.1e} relative)"
        )
        console.print(f"score with: python predict.py ckpt_path={path} source=<video | folder>")
        return sidecar


def run_folder(ckpt: Path) -> Path:
    """The training run folder of a checkpoint (``<run>/checkpoints/best.ckpt`` -> ``<run>``)."""
    return ckpt.parent.parent if ckpt.parent.name == "checkpoints" else ckpt.parent
