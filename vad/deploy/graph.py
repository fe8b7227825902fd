"""The exported graph: a clip batch as the data layer loads it -> the model's raw score columns
and its error maps.

Export-time only (it loads the model's Lightning module); the runtime reads the sidecar JSON.
The graph is the model's own code traced once: the uint8 -> [-1, 1] conversion
(``vad.data.batch.images_to_float``), ``predict_clips`` and ``frame_scores`` with the fitted
validation moments as constants, and ``Prediction.error_maps``. What stays outside is what the
one scorer does with any model's rows (``vad.scoring.scorer``): aggregation over clips,
normalisation and smoothing.
"""

from __future__ import annotations

import torch
from torch import nn

from vad.data.batch import ClipBatch, images_to_float
from vad.errors import CheckpointError
from vad.models.base import VADModule

#: the modalities a graph can take as inputs, in this order
GRAPH_MODALITIES = ("frames", "flow")
#: the error maps output (B, P, H, W), after the score columns
MAPS_OUTPUT = "error_maps"


def check_exportable(model: VADModule, where: str) -> None:
    """A CheckpointError in one line when ``model`` has no graph to export."""
    if model.contract.one_pass:
        raise CheckpointError(
            f"{where}: {type(model).__name__} cannot be exported to ONNX: it has no network, it "
            "scores by nearest neighbours in its fitted feature bank; deploy its checkpoint"
        )
    if model.objects:
        raise CheckpointError(
            f"{where}: a model on object crops (model.objects) cannot be exported: the crops "
            "of a clip depend on its motion boxes"
        )
    if "boxes" in model.modalities:
        raise CheckpointError(
            f"{where}: a model with region scores (model.regions=true) cannot be exported: they "
            "need each clip's motion boxes, a varying number; export one trained without them"
        )
    unknown = sorted(set(model.modalities) - set(GRAPH_MODALITIES))
    if unknown:
        raise CheckpointError(f"{where}: the modalities {unknown} cannot be graph inputs")
    if type(model).finalize_scores is not VADModule.finalize_scores and not hasattr(
        model, "deployed_finalize"
    ):
        raise CheckpointError(
            f"{where}: {type(model).__name__} derives columns (finalize_scores) but does not "
            "say how a runtime derives them (deployed_finalize)"
        )


class ScoringGraph(nn.Module):
    """``model`` from loaded clip arrays (the model's modalities, ``GRAPH_MODALITIES`` order) to
    its score columns, each (B * P,) clip-major, and its error maps (B, P, H, W)."""

    def __init__(self, model: VADModule) -> None:
        super().__init__()
        # not a registered submodule: the tracer reads the state dict, and the fitted
        # statistics' extra state is a dict; the weights become the graph's constants
        object.__setattr__(self, "model", model)
        self.names = [m for m in GRAPH_MODALITIES if m in model.modalities]

    def forward(self, *arrays: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.prediction(*arrays)
        scores = self.model.frame_scores(out)
        return (*(v.float() for v in scores.values()), out.error_maps().float())

    def prediction(self, *arrays: torch.Tensor):
        """The model's ``Prediction`` of the clips (video names and frame ids are placeholders:
        they are not graph values)."""
        given = dict(zip(self.names, arrays, strict=True))
        frames = given.pop("frames")
        ids = torch.zeros(frames.shape[:2], dtype=torch.int64, device=frames.device)
        batch = images_to_float(ClipBatch(frames=frames, video=[], frame_ids=ids, **given))
        return self.model.predict_clips(batch)

    def columns(self, example: tuple[torch.Tensor, ...]) -> list[str]:
        """The score columns the graph outputs, by name, as on ``example``."""
        with torch.inference_mode():
            return list(self.model.frame_scores(self.prediction(*example)))


def example_inputs(model: VADModule, batch: int = 2) -> tuple[torch.Tensor, ...]:
    """Inputs of the model's graph as the data layer loads them: uint8 frames (B, L, H, W, C)
    and flow (B, L, H, W, 2)."""
    length, (height, width) = int(model.clip_length), model.image_size
    generator = torch.Generator().manual_seed(0)
    shapes = {
        "frames": (batch, length, height, width, model.channels),
        "flow": (batch, length, height, width, 2),
    }
    out = []
    for name in ScoringGraph(model).names:
        if name == "frames":
            out.append(torch.randint(0, 256, shapes[name], dtype=torch.uint8, generator=generator))
        else:
            out.append(torch.randn(shapes[name], generator=generator))
    return tuple(out)
