"""Draw the documentation's figures (docs/img/*.png) from benchmark runs under outputs/bench/.

    .venv/bin/python docs/make_figures.py [--density-run DIR] [--ensemble-run DIR]

    .venv/bin/python docs/make_figures.py --stream-run outputs/docs_figures/stream

    .venv/bin/python docs/make_figures.py --time-to-accuracy     # from bench/results.md only

Defaults: the Ped2 density run of today's preset (the newest `outputs/bench/ped2_density/*` whose
metrics read the preset's 0.975, else the newest) and the newest five-member Ped1 ensemble
(`outputs/bench/ped1_ensemble/*`); with `--stream-run` (a `predict.py ... source=<video>` run
folder) also the annotated frame of its highest score. Scores are drawn as evaluated: per-video
min-max, then the Gaussian smoothing the run recorded (`metrics.json`), with vad's own functions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from vad.scoring.normalization import minmax  # noqa: E402
from vad.scoring.smoothing import gaussian_smooth  # noqa: E402

IMG = ROOT / "docs" / "img"
BENCH = ROOT / "outputs" / "bench"


def newest(folder: Path, keep=lambda run: True) -> Path:
    """The newest run folder under ``folder`` that ``keep`` accepts (or the newest at all)."""
    runs = sorted(p for p in folder.glob("*") if (p / "metrics.json").is_file())
    if not runs:
        raise SystemExit(f"{folder}: no runs with metrics.json (run the bench script first)")
    kept = [r for r in runs if keep(r)]
    return (kept or runs)[-1]


def shade_truth(ax: plt.Axes, frames: np.ndarray, labels: np.ndarray) -> None:
    """Shade the ground-truth anomalous frames of one video."""
    ax.fill_between(
        frames,
        0,
        1,
        where=labels > 0,
        color="tab:red",
        alpha=0.15,
        step="mid",
        transform=ax.get_xaxis_transform(),
        label="ground truth: anomalous",
    )


def score_curves(run: Path, videos: list[str], out: Path) -> None:
    """The density member's evaluated score along a few Ped2 test videos, truth shaded."""
    protocol = json.loads((run / "metrics.json").read_text())["score"]
    column, sigma = protocol["column"], float(protocol["sigma"])
    scores = pd.read_csv(run / "scores.csv", dtype={"video": str})
    per_video = pd.read_csv(run / "per_video.csv", dtype={"video": str}).set_index("video")
    fig, axes = plt.subplots(len(videos), 1, figsize=(7, 1.5 * len(videos)), sharey=True)
    for ax, video in zip(axes, videos, strict=True):
        rows = scores[scores.video == video].sort_values("frame")
        frames = rows.frame.to_numpy()
        score = gaussian_smooth(minmax(rows[column].to_numpy(float)), frames, sigma)
        shade_truth(ax, frames, rows.label.to_numpy())
        ax.plot(frames, score, color="tab:blue", lw=1.2, label=f"{column} score")
        auc = per_video.loc[video, "auc"]
        ax.set_title(f"video {video}" + ("" if pd.isna(auc) else f": AUC {auc:.3f}"), fontsize=9)
        ax.set_ylim(0, 1.05)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7, loc="lower right")
    axes[-1].set_xlabel("frame id", fontsize=8)
    fig.suptitle(
        f"UCSD Ped2, density member: per-video min-max, Gaussian sigma {sigma:g}", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)


def ensemble_vs_members(run: Path, video: str, out: Path) -> None:
    """Each member alone against the equal-weight ensemble: micro AUC, and one video's curves."""
    metrics = json.loads((run / "metrics.json").read_text())
    alone = {name: m["eval"]["micro_auc"] for name, m in metrics["members_alone"].items()}
    sigma = float(metrics["smoothing"]["sigma"])
    fused = pd.read_csv(run / "fused_scores.csv", dtype={"video": str})
    fig, (bars, curve) = plt.subplots(1, 2, figsize=(9, 2.8), width_ratios=[1, 2])
    names = [*alone, "ensemble"]
    values = [*alone.values(), metrics["all_videos"]["micro_auc"]]
    colours = ["tab:grey"] * len(alone) + ["tab:blue"]
    bars.barh(names, values, color=colours)
    for y, value in enumerate(values):
        bars.text(value + 0.005, y, f"{value:.3f}", va="center", fontsize=7)
    bars.set_xlim(0.5, 0.9)
    bars.set_xlabel("micro AUC (all test videos)", fontsize=8)
    bars.tick_params(labelsize=7)
    rows = fused[fused.video == video].sort_values("frame")
    frames = rows.frame.to_numpy()
    shade_truth(curve, frames, rows.label.to_numpy())
    for name in alone:
        member = gaussian_smooth(rows[name].to_numpy(float), frames, sigma)
        curve.plot(frames, member, lw=0.8, alpha=0.7, label=name)
    curve.plot(frames, rows.score.to_numpy(float), color="black", lw=1.8, label="ensemble")
    curve.set_title(f"video {video}: members (min-max, sigma {sigma:g}) and their mean", fontsize=9)
    curve.set_xlabel("frame id", fontsize=8)
    curve.tick_params(labelsize=7)
    curve.legend(fontsize=6, ncol=3, loc="lower right")
    fig.suptitle(f"UCSD Ped1: equal-weight ensemble of {len(alone)} members", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)


def annotated_frame(run: Path, out: Path) -> None:
    """The streamed frame with the highest online score, as its annotated video shows it."""
    import cv2

    scores = pd.read_csv(run / "scores.csv", dtype={"video": str})
    scored = scores[scores.filled == 0]
    top = scored.loc[scored.score.idxmax()]
    position = int(np.flatnonzero(scores[scores.video == top.video].frame == top.frame)[0])
    capture = cv2.VideoCapture(str(run / "annotated" / f"{top.video}.mp4"))
    capture.set(cv2.CAP_PROP_POS_FRAMES, position)
    ok, frame = capture.read()
    capture.release()
    if not ok:
        raise SystemExit(f"{run}: cannot read frame {position} of annotated/{top.video}.mp4")
    cv2.imwrite(str(out), frame, [cv2.IMWRITE_PNG_COMPRESSION, 9])


def time_to_accuracy(results: Path, out_dir: Path) -> list[Path]:
    """One figure per dataset: test micro AUC against training minutes, a line per model, from
    the "Time to accuracy" rows of bench/results.md (the newest row of each mark)."""
    text = results.read_text()
    section = text[text.index("## Time to accuracy") :]
    section = section[: section.find("\n## ", 1) if "\n## " in section[1:] else len(section)]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| 20")
    ]
    table = pd.DataFrame(
        [(r[1], r[2], float(r[3]), int(r[5]), float(r[6])) for r in rows],
        columns=["dataset", "model", "minutes", "samples", "micro_auc"],
    ).drop_duplicates(["dataset", "model", "minutes"], keep="last")
    written = []
    for dataset, part in table.groupby("dataset"):
        figure, ax = plt.subplots(figsize=(5.2, 3.0))
        for model, line in part.groupby("model"):
            line = line.sort_values("minutes")
            ax.plot(line["minutes"], line["micro_auc"], marker="o", label=model)
        ax.set_xscale("log", base=2)
        marks = sorted(part["minutes"].unique())
        ax.set_xticks(marks, [f"{m:g}" for m in marks])
        low, high = part["micro_auc"].min(), part["micro_auc"].max()
        ax.set_ylim(max(0.5, low - 0.05), min(1.0, high + 0.05))  # flat reads flat
        ax.set_xlabel("training minutes (2 CPU cores)")
        ax.set_ylabel("test micro AUC (sigma 3)")
        ax.set_title(f"Time to accuracy, UCSD {dataset.capitalize()}")
        ax.legend(frameon=False)
        ax.grid(alpha=0.3)
        figure.tight_layout()
        path = out_dir / f"time_to_accuracy_{dataset}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--density-run", type=Path)
    parser.add_argument("--ensemble-run", type=Path)
    parser.add_argument("--stream-run", type=Path, help="a predict.py source=<video> run folder")
    parser.add_argument(
        "--time-to-accuracy", action="store_true", help="only the time-to-accuracy figures"
    )
    args = parser.parse_args()
    if args.time_to_accuracy:
        IMG.mkdir(parents=True, exist_ok=True)
        for path in time_to_accuracy(ROOT / "bench" / "results.md", IMG):
            print(f"drew {path.relative_to(ROOT)}")
        return

    def preset(run: Path) -> bool:
        return round(json.loads((run / "metrics.json").read_text())["micro_auc"], 3) == 0.975

    density = args.density_run or newest(BENCH / "ped2_density", preset)

    def five(run: Path) -> bool:
        return len(json.loads((run / "metrics.json").read_text())["members"]) == 5

    ensemble = args.ensemble_run or newest(BENCH / "ped1_ensemble", five)
    IMG.mkdir(parents=True, exist_ok=True)
    score_curves(density, ["01", "04", "06", "12"], IMG / "ped2_density_scores.png")
    ensemble_vs_members(ensemble, "01", IMG / "ped1_ensemble_vs_members.png")
    if args.stream_run:
        annotated_frame(args.stream_run, IMG / "stream_annotated_frame.png")
    print(f"drew {IMG}/*.png from {density.relative_to(ROOT)} and {ensemble.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
