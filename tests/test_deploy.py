"""ONNX export: the graph scores every frame as torch does, a model without a graph says so in
one line, and ``predict.py ckpt_path=<model.onnx>`` scores without importing Lightning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import open_dict
from torch.utils.data import DataLoader

from tests.trained_runs import unet_run_fixture  # noqa: F401
from vad.data.batch import collate_clips
from vad.data.clips import ClipDataset, memory_video
from vad.errors import CheckpointError
from vad.scoring.scorer import Scorer

pytest.importorskip("onnxruntime", reason="the export extra is not installed (vad[export])")
from vad.deploy.onnx_export import export_onnx
from vad.deploy.runtime import OnnxModel

ROOT = Path(__file__).resolve().parents[1]
#: the tiny networks of the parity test (each model's own keys)
TINY_NETS = {"base_width": 4, "motion_width": 2, "depth": 2, "widths": [4, 6, 8]}
#: float32 graphs agree to ~1e-6; the issue's bound is 1e-3 relative
PARITY = 1e-3


def tiny_model(make_cfg, name: str, **settings):
    cfg = make_cfg("train", [f"model={name}", "data.image_size=[32,32]"], tiny=False)
    with open_dict(cfg):
        for key, value in {**TINY_NETS, **settings}.items():
            if key in cfg.model:
                cfg.model[key] = value
    model = hydra.utils.instantiate(cfg.model)
    if name == "joint":  # measured on the training flow when fitted
        model.flow_scale.fill_(1.7)
    meta = {"model": {"_target_": cfg.model._target_}, "data": {"image_size": [32, 32]}}
    return model.eval(), meta


def fit_moments(model, video) -> None:
    """What validation measures (``model.fitted``) on ``video``, as a validation epoch does."""
    model.log = lambda *args, **kwargs: None  # no trainer to log to
    model.fitted.reset()
    dataset = ClipDataset([video], model.clip_length, 1, model.modalities)
    with torch.no_grad():
        for batch in DataLoader(dataset, 4, collate_fn=collate_clips):
            model.validation_step(model.on_after_batch_transfer(batch, 0), 0)
    model.fitted.finish()


def synthetic_video(model, frames: int = 13, seed: int = 0):
    """A clip-scorable video of random frames (and flow when the model reads it)."""
    rng = np.random.default_rng(seed)
    height, width = model.image_size
    arrays = {"frames": rng.integers(0, 256, (frames, height, width, 1), dtype=np.uint8)}
    if "flow" in model.modalities:
        arrays["flow"] = rng.normal(0, 1, (frames, height, width, 2)).astype(np.float16)
    return memory_video("v", arrays, np.arange(10, 10 + frames), split="test")


@pytest.mark.parametrize("name", ["unet", "stae", "roadmap", "joint"])
def test_onnx_runtime_scores_every_frame_as_torch(make_cfg, tmp_path: Path, name: str) -> None:
    settings = {"input_frames": 4} if name == "stae" else {}
    model, meta = tiny_model(make_cfg, name, **settings)
    fit_moments(model, synthetic_video(model, seed=1))  # the columns standardised by them
    sidecar = export_onnx(model, meta, tmp_path / "model.onnx")
    assert sidecar["parity"] <= PARITY
    deployed = OnnxModel.load(tmp_path / "model.onnx")
    assert deployed.contract == model.contract and deployed.clip_length == model.clip_length
    video = synthetic_video(model)
    # a batch size other than the export example's (2): the batch axis is dynamic
    want = Scorer(model).score_videos([video], batch_size=3)
    got = Scorer(deployed).score_videos([video], batch_size=3)
    assert list(got.columns) == list(want.columns)
    assert got["frame"].tolist() == want["frame"].tolist()  # original ids, exact
    for column in [c for c in want.columns if c not in ("video", "frame", "filled")]:
        a, b = want[column].to_numpy(float), got[column].to_numpy(float)
        assert (np.isnan(a) == np.isnan(b)).all(), column
        assert not np.isnan(a).all(), column
        scale = max(np.nanmax(np.abs(a)), 1e-12)
        assert np.nanmax(np.abs(a - b)) <= PARITY * scale, column


def test_a_model_without_a_graph_says_so_in_one_line(make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg("train", ["model=density", "data.image_size=[32,32]"], tiny=False)
    model = hydra.utils.instantiate(cfg.model)
    meta = {"model": {"_target_": cfg.model._target_}, "data": {}}
    with pytest.raises(CheckpointError, match="cannot be exported to ONNX") as caught:
        export_onnx(model, meta, tmp_path / "model.onnx")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "model.onnx").exists()


def test_region_scores_are_refused_before_tracing(make_cfg, tmp_path: Path) -> None:
    model, meta = tiny_model(make_cfg, "unet", regions=True)
    with pytest.raises(CheckpointError, match=r"model\.regions"):
        export_onnx(model, meta, tmp_path / "model.onnx")


def test_a_sidecar_of_another_format_is_refused(make_cfg, tmp_path: Path) -> None:
    model, meta = tiny_model(make_cfg, "unet")
    export_onnx(model, meta, tmp_path / "model.onnx")
    sidecar = tmp_path / "model.json"
    sidecar.write_text(sidecar.read_text().replace('"format": 1', '"format": 99'))
    with pytest.raises(CheckpointError, match="format 99"):
        OnnxModel.load(tmp_path / "model.onnx")
    (tmp_path / "model.json").unlink()
    with pytest.raises(CheckpointError, match=r"model\.json: not found"):
        OnnxModel.load(tmp_path / "model.onnx")


@pytest.mark.slow
def test_predict_from_onnx_matches_the_checkpoint_without_lightning(
    unet_run: Path, tmp_path: Path, shared_dir: Path
) -> None:
    """export.py, then predict.py on the test videos with the checkpoint and with model.onnx
    (in a fresh interpreter that must not import Lightning): the same scores and AUC."""
    run = tmp_path / "run"
    subprocess.run(["cp", "-r", str(unet_run), str(run)], check=True)
    common = [f"paths.data_dir={shared_dir / 'data'}", f"paths.cache_dir={shared_dir / 'cache'}"]
    script = ROOT / "export.py"
    subprocess.run(
        [sys.executable, str(script), f"ckpt_path={run}", f"hydra.run.dir={tmp_path / 'x'}"],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    assert (run / "model.onnx").is_file() and (run / "model.json").is_file()
    probe = (
        "import runpy, sys\n"
        "sys.argv = sys.argv[1:]\n"
        "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "except SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "loaded = [m for m in sys.modules if m == 'lightning' or m.startswith('lightning.')]\n"
        "assert not loaded, loaded[:3]\n"
    )
    outputs = {}
    for name, ckpt in (("torch", run), ("onnx", run / "model.onnx")):
        out = tmp_path / name
        command = [str(ROOT / "predict.py"), f"ckpt_path={ckpt}", f"hydra.run.dir={out}", *common]
        runner = [sys.executable, "-c", probe] if name == "onnx" else [sys.executable]
        done = subprocess.run([*runner, *command], capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs[name] = pd.read_csv(out / "scores.csv")
    torch_scores, onnx_scores = outputs["torch"], outputs["onnx"]
    assert list(onnx_scores.columns) == list(torch_scores.columns)
    assert (onnx_scores[["video", "frame"]] == torch_scores[["video", "frame"]]).all().all()
    for column in ("psnr", "mse", "patch_max"):
        scale = torch_scores[column].abs().max()
        assert (onnx_scores[column] - torch_scores[column]).abs().max() <= PARITY * scale
    assert torch.isfinite(torch.tensor(onnx_scores["psnr"].to_numpy())).all()
