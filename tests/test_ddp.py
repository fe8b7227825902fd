"""Scale-out: prediction under DDP (two CPU processes, gloo) merges the ranks' parts into the
scores of a one-process run; part files are de-duplicated per clip; launcher configs compose."""

from __future__ import annotations

from pathlib import Path

import hydra
import pandas as pd
import pytest
import torch
from omegaconf import open_dict

from tests.trained_runs import unet_run_fixture  # noqa: F401
from vad.errors import ScoreFileError
from vad.models.base import Prediction
from vad.scoring.scorer import Scorer
from vad.scoring.writer import CLIP, ScoreWriter, clip_of_rows, merge_parts
from vad.tasks.predict import predict


@pytest.mark.slow
def test_ddp_spawn_prediction_equals_one_process(unet_run: Path, make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg(
        "predict",
        [
            f"ckpt_path={unet_run}",
            "trainer=ddp_spawn",
            "trainer.devices=2",
            "trainer.enable_progress_bar=false",
            "batch_size=8",
            "scoring.report.enabled=false",
        ],
    )
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp_path / "ddp")
    predict(cfg)
    merged = pd.read_csv(tmp_path / "ddp" / "scores.csv", dtype={"video": str})
    single = pd.read_csv(unet_run / "scores.csv", dtype={"video": str})
    pd.testing.assert_frame_equal(merged, single, rtol=1e-5)
    assert not list((tmp_path / "ddp").glob(".scores.rank*.part.csv"))


def test_parts_keep_one_row_per_clip_and_frame(tmp_path: Path) -> None:
    rows = {  # clip 7 reached both ranks; frame 3 is scored by the two clips 6 and 7
        0: [(6, "a", 2, 0.1), (6, "a", 3, 0.3), (7, "a", 3, 0.5), (7, "a", 4, 0.7)],
        1: [(7, "a", 3, 0.5), (7, "a", 4, 0.7), (-1, "b", 0, 0.9), (-1, "b", 0, 0.9)],
    }
    parts = []
    for rank, part in rows.items():
        parts.append(tmp_path / f"rank{rank}.csv")
        pd.DataFrame(part, columns=[CLIP, "video", "frame", "mse"]).to_csv(parts[-1], index=False)
    merged = merge_parts([*parts, tmp_path / "missing.csv"])
    assert CLIP not in merged.columns
    got = sorted(map(tuple, merged.itertuples(index=False)))  # exact: copied through CSV text
    assert got == [("a", 2, 0.1), ("a", 3, 0.3), ("a", 3, 0.5), ("a", 4, 0.7), ("b", 0, 0.9)]


def test_rows_are_mapped_to_clips_in_order() -> None:
    assert clip_of_rows(4, [10, 11]) == [10, 10, 11, 11]
    assert clip_of_rows(2, [10, 11]) == [10, 11]
    assert clip_of_rows(3, [10, 11]) == [-1, -1, -1]
    assert clip_of_rows(2, None) == [-1, -1]


@pytest.mark.parametrize(
    ("launcher", "target"),
    [
        ("joblib", "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"),
        ("submitit_slurm", "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"),
    ],
)
def test_launcher_configs_compose(make_cfg, launcher: str, target: str) -> None:
    cfg = make_cfg("train", [f"hydra/launcher={launcher}"], tiny=False)
    assert cfg.hydra.launcher._target_ == target
    hydra.utils.instantiate(cfg.hydra.launcher)


def test_part_rows_keep_large_frame_ids_exact(tmp_path: Path) -> None:
    class Rank0:
        global_rank = 0

    class FixedErrors:
        def frame_scores(self, out: Prediction) -> dict[str, torch.Tensor]:
            return {"mse": torch.tensor([0.1, 0.2])}

    writer = ScoreWriter(tmp_path)
    writer.scorer = Scorer(FixedErrors())
    ids = torch.tensor([[120_000_123], [20_230_101]], dtype=torch.int64)  # not exact in float32
    frames = torch.zeros(2, 1, 4, 4)
    prediction = Prediction(frames, frames, (4,), video=["a", "a"], frame_ids=ids)
    writer.write_on_batch_end(Rank0(), None, prediction, [0, 1], None, 0, 0)
    rows = merge_parts([writer._part(0)])
    assert rows["frame"].tolist() == [120_000_123, 20_230_101]


def test_no_part_files_is_an_error_naming_them(tmp_path: Path) -> None:
    with pytest.raises(ScoreFileError, match=r"rank0\.csv"):
        merge_parts([tmp_path / "rank0.csv"])
