"""Object-centric clips: crops of the motion boxes, their rows, and their maps back in the frame."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from vad.data.batch import ClipBatch
from vad.errors import VADError
from vad.models.object_crops import crop, object_batch, object_settings, paint
from vad.tasks.train import train

NAN_BOX = [float("nan")] * 4


def ramp(height: int = 16, width: int = 32) -> torch.Tensor:
    """(1, 2, 1, H, W): two frames whose pixel value is its column index (+ 100 * frame)."""
    columns = torch.arange(width, dtype=torch.float32).expand(height, width)
    return torch.stack([columns, columns + 100])[None, :, None]


def test_a_crop_is_the_box_resized() -> None:
    clips = ramp()
    box = torch.tensor([[0.25, 0.0, 0.75, 1.0]])  # columns 8 .. 24 of 32
    out = crop(clips, box, 8)
    assert out.shape == (1, 2, 1, 8, 8)
    # 8 samples across 16 columns: centres at columns 9, 11, ..., 23 (pixel centres + 0.5)
    assert out[0, 0, 0, 0].tolist() == pytest.approx([8.5 + 2 * i for i in range(8)], abs=1e-4)
    assert out[0, 1, 0, 3, 0].item() == pytest.approx(108.5, abs=1e-4)


def test_painting_a_crop_puts_it_back_into_its_box() -> None:
    box = torch.tensor([[0.25, 0.5, 0.75, 1.0]])
    maps = torch.ones(1, 1, 8, 8)
    painted = paint(maps, box, 16, 32)[0, 0]
    assert painted[8:, 8:24].min().item() == pytest.approx(1.0, abs=1e-5)
    # exact: outside the box (by at least 1/16 of a box width) the map is multiplied by 0
    assert painted[:8].abs().max().item() == 0 and painted[:, :7].abs().max().item() == 0
    assert painted[:, 25:].abs().max().item() == 0


def test_object_batch_has_one_entry_per_box_and_empty_clips_keep_one() -> None:
    boxes = torch.tensor(
        [
            [[[0.0, 0.0, 0.5, 0.5], NAN_BOX], [[0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 1.0, 1.0]]],
            [[NAN_BOX, NAN_BOX], [NAN_BOX, NAN_BOX]],
        ]
    )  # (B=2, L=2, K=2, 4): clip 0 has two boxes in its last frame, clip 1 none
    batch = ClipBatch(
        frames=torch.zeros(2, 2, 1, 16, 32),
        boxes=boxes,
        video=["a", "b"],
        frame_ids=torch.tensor([[4, 5], [7, 8]]),
        skip=torch.tensor([0, 3]),
    )
    out = object_batch(batch, size=8)
    assert out.frames.shape == (3, 2, 1, 8, 8)
    assert out.video == ["a", "a", "b"]
    assert out.frame_ids.tolist() == [[4, 5], [4, 5], [7, 8]]
    assert out.skip.tolist() == [0, 0, 3]
    assert out.object_empty.tolist() == [False, False, True]
    assert out.object_box[2].tolist() == [0.0, 0.0, 1.0, 1.0]  # exact: the constant whole frame
    trained = object_batch(batch, size=8, training=True)
    assert trained.video == ["a", "a"] and not trained.object_empty.any()


def test_bad_object_settings_are_named() -> None:
    assert object_settings(None) is None and object_settings({"enabled": False}) is None
    assert object_settings({"enabled": True}) == {"size": 32, "position": -1}
    with pytest.raises(VADError, match=r"model\.objects"):
        object_settings({"enabled": True, "size": 4})
    with pytest.raises(VADError, match=r"model\.objects"):
        object_settings({"enabled": True, "shape": 32})


OBJECTS = [
    "model.objects.enabled=true",
    "model.objects.size=16",
    "data.regions.min_area=4",
    "data.regions.resolution=cache",
    "scoring.aggregate=max",
]


@pytest.mark.slow
def test_a_unet_trains_and_scores_on_objects(make_cfg) -> None:
    cfg = make_cfg("train", [*OBJECTS, "scoring.report.enabled=true"])
    train(cfg)
    out = Path(cfg.paths.output_dir)
    scores = pd.read_csv(out / "scores.csv", dtype={"video": str})
    assert len(scores) == 4 * 24 and np.isfinite(scores["psnr"]).all()
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["micro_auc"] <= 1.0 and 0.0 <= metrics["pixel_auroc"] <= 1.0
    maps = np.load(out / "pixel_maps" / "01.npy")
    assert maps.shape == (24, 32, 32)  # painted back at the frame size
    assert (out / "report.md").is_file()
