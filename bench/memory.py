"""Peak memory against footage length: is it bounded, in dataset mode and in streaming mode?

    python bench/memory.py [--frames 1500 3000 6000] [--no-record]

Writes synthetic 360x640 footage (an MJPG ``.avi`` at 25 fps: a textured background and a
moving square), trains a tiny U-Net for a few steps (the weights do not change the memory a
run needs), then scores each length in a fresh process and reads that process's peak resident
set size (``os.wait4``):

- dataset mode: ``predict.py data=folder`` on a test-only dataset holding the one video
  (the frame cache is built from an empty folder within the run, then the clips are scored);
- streaming mode: ``predict.py source=<video>`` (frames decoded and scored as they arrive,
  ``infer.annotate=false``: no annotated copy is written).

Rows go to ``bench/results.md`` (section "Peak memory against footage length"). Everything is
written under ``outputs/bench/memory/``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402

WORK = ROOT / "outputs" / "bench" / "memory"
SIZE = (360, 640)
FPS = 25
SECTION = "Peak memory against footage length"
HEADER = (
    "| date | mode | frames (minutes at 25 fps) | peak RSS MB | MB per 1000 frames over the "
    "shortest | wall s | command |\n|---|---|---|---|---|---|---|\n"
)
QUIET = ["trainer.enable_progress_bar=false", "logger=none"]


def write_footage(path: Path, frames: int, seed: int = 0) -> Path:
    """An MJPG video of ``frames`` 360x640 colour frames (kept when already written)."""
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = SIZE
    rng = np.random.default_rng(seed)
    background = cv2.GaussianBlur(rng.integers(40, 160, (h, w, 3), dtype=np.uint8), (9, 9), 0)
    tmp = path.with_name(f".{path.name}.tmp.avi")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (w, h))
    for i in range(frames):
        frame = background.copy()
        x = (20 + 4 * i) % (w - 40)
        frame[h // 2 : h // 2 + 40, x : x + 40] = 230
        writer.write(frame)
    writer.release()
    os.replace(tmp, path)
    return path


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``python <args>`` in a fresh process; its peak RSS in MB and its wall seconds."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stderr = child.stderr.read() if child.stderr else b""
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: python {' '.join(args)}\n{stderr.decode()[-2000:]}")
    return usage.ru_maxrss / 1024, seconds  # Linux reports KiB


def train_tiny(env: dict[str, str]) -> Path:
    """A U-Net trained for a few steps on 360x640 footage (frames cached at 64x64)."""
    folder = WORK / "train_run"
    if (folder / "checkpoints").is_dir():
        return folder
    data = WORK / "train_data"
    for i in range(3):
        write_footage(data / "train" / f"normal{i}.avi", 40, seed=i)
    write_footage(data / "test" / "clip.avi", 40, seed=9)
    shutil.rmtree(folder, ignore_errors=True)
    args = [
        "train.py",
        "data=folder",
        f"data.root={data}",
        "data.image_size=[64,64]",
        "data.val_videos=1",
        "model.base_width=8",
        "trainer.max_epochs=1",
        "+trainer.limit_train_batches=4",
        "test=false",
        f"hydra.run.dir={folder}",
        "callbacks.rich_progress_bar=null",
        *QUIET,
    ]
    run(args, env)
    return folder


def measure(mode: str, frames: int, ckpt: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Peak RSS (MB), wall seconds and the command of one scoring run."""
    video = write_footage(WORK / f"footage_{frames}" / "test" / "video.avi", frames)
    out = WORK / "runs" / f"{mode}_{frames}"
    shutil.rmtree(out, ignore_errors=True)
    common = [f"ckpt_path={ckpt}", f"hydra.run.dir={out}", *QUIET]
    if mode == "dataset":
        cache = WORK / "cache" / str(frames)
        shutil.rmtree(cache, ignore_errors=True)  # the cache is built inside the measured run
        args = [
            "predict.py",
            "data=folder",
            f"data.root={video.parent.parent}",
            "data.layout.train_dir=null",
            f"data.cache_dir={cache}",
            *common,
        ]
    else:
        args = ["predict.py", f"source={video}", "infer.annotate=false", *common]
    peak, seconds = run(args, env)
    return peak, seconds, "python " + " ".join(a.replace(str(ROOT) + "/", "") for a in args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[1500, 3000, 6000])
    parser.add_argument("--modes", nargs="+", default=["dataset", "streaming"])
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "VAD_CACHE_DIR": str(WORK / "cache" / "train")}
    ckpt = train_tiny(env)
    rows = []
    for mode in args.modes:
        results = [(n, *measure(mode, n, ckpt, env)) for n in sorted(args.frames)]
        base_frames, base_peak = results[0][0], results[0][1]
        for frames, peak, seconds, command in results:
            slope = (
                (peak - base_peak) / (frames - base_frames) * 1000 if frames > base_frames else 0
            )
            minutes = frames / FPS / 60
            row = (
                f"| {date.today()} | {mode} | {frames} ({minutes:.1f}) | {peak:.0f} | "
                f"{slope:+.1f} | {seconds:.0f} | `{command}` |\n"
            )
            print(row, end="", flush=True)
            rows.append(row)
    if not args.no_record:
        record(SECTION, HEADER, "".join(rows))


if __name__ == "__main__":
    main()
