"""Every normalisation option, constant scores, training statistics and option validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vad.errors import CheckpointError, ScoreFileError, VADError
from vad.models.contract import ModelContract
from vad.scoring.normalization import normalize
from vad.scoring.options import NORMALIZATIONS, ScoringConfigError, ScoringOptions
from vad.scoring.pipeline import anomaly_scores, score_frame
from vad.scoring.train_stats import column_statistics, score_statistics

SCORES = pd.Series([1.0, 3.0, 5.0, 7.0, 7.0, 2.0])
VIDEOS = pd.Series(["a", "a", "a", "b", "b", "c"])


def _stats(values: np.ndarray, column: str = "mse") -> dict:
    return {"columns": {column: column_statistics(values)}}


def test_per_video_minmax_and_zscore_with_constant_videos() -> None:
    minmax = normalize(SCORES, VIDEOS, "minmax")
    # exact: (s - 1) / 4 of small integers; b and c take the zero branch
    assert minmax.tolist() == [0.0, 0.5, 1.0, 0.0, 0.0, 0.0]  # b constant, c one frame: 0
    z = normalize(SCORES, VIDEOS, "zscore")
    assert z[:3].mean() == pytest.approx(0) and z[:3].std(ddof=0) == pytest.approx(1)
    assert z[3:].tolist() == [0.0, 0.0, 0.0]  # exact: std 0, the zero branch
    assert normalize(SCORES, VIDEOS, "none").tolist() == SCORES.tolist()  # exact: copied


def test_global_minmax_pools_all_videos() -> None:
    out = normalize(SCORES, VIDEOS, "global_minmax")
    assert out.tolist() == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0, 1.0, 1 / 6])
    constant = normalize(pd.Series([4.0, 4.0]), pd.Series(["a", "b"]), "global_minmax")
    assert constant.tolist() == [0.0, 0.0]  # exact: span 0, the zero branch


def test_train_statistics_use_only_the_stored_values() -> None:
    validation = np.arange(1001, dtype=float)  # mean 500, quantiles = values
    stats = _stats(validation)
    z = normalize(SCORES, VIDEOS, "train_zscore", stats, "mse")
    assert z.tolist() == pytest.approx(((SCORES - 500) / validation.std()).tolist())
    mm = normalize(SCORES, VIDEOS, "train_minmax", stats, "mse", (0.0, 0.999))
    assert mm.tolist() == pytest.approx((SCORES / 999.0).tolist())
    robust = normalize(SCORES, VIDEOS, "train_minmax", stats, "mse", (0.5, 0.99))
    assert robust.tolist() == pytest.approx(((SCORES - 500) / 490).tolist())
    # the test scores themselves do not change the map: one frame alone maps the same way
    alone = normalize(SCORES[:1], VIDEOS[:1], "train_zscore", stats, "mse")
    assert alone[0] == z[0]  # exact: the same correctly rounded (s - shift) / scale


def test_constant_validation_scores_do_not_divide_by_zero() -> None:
    stats = _stats(np.full(10, 2.0))
    for method in ("train_zscore", "train_minmax"):
        out = normalize(SCORES, VIDEOS, method, stats, "mse")
        # exact: mean and quantiles of ten 2.0 are 2.0 and the spread 0 (scale 1): s - 2.0 of
        # small integers
        assert np.isfinite(out).all() and out.tolist() == (SCORES - 2.0).tolist()


def test_missing_statistics_are_clear_errors() -> None:
    with pytest.raises(CheckpointError, match="none are stored"):
        normalize(SCORES, VIDEOS, "train_zscore", None, "mse")
    with pytest.raises(CheckpointError, match="'psnr'"):
        normalize(SCORES, VIDEOS, "train_zscore", _stats(np.arange(5.0)), "psnr")
    with pytest.raises(ScoringConfigError, match="unknown normalisation 'global'"):
        normalize(SCORES, VIDEOS, "global")


def test_statistics_are_of_the_oriented_score_and_skip_filled_frames() -> None:
    scores = pd.DataFrame(
        {
            "video": ["15"] * 4,
            "frame": [0, 1, 2, 3],
            "psnr": [99.0, 30.0, 20.0, 40.0],
            "mse": [9.0, 1.0, 2.0, 3.0],
            "filled": [1, 0, 0, 0],
        }
    )
    stats = score_statistics(scores, ["psnr", "mse"])
    assert stats["frames"] == 3 and stats["videos"] == ["15"]
    psnr = stats["columns"]["psnr"]
    # exact (max, min, quantiles): negated copies and order statistics at integer positions
    assert psnr["mean"] == pytest.approx(-30.0) and psnr["max"] == -20.0 and psnr["min"] == -40.0
    assert psnr["quantiles"]["0.5"] == -30.0 and psnr["quantiles"]["1"] == -20.0
    assert stats["columns"]["mse"]["mean"] == pytest.approx(2.0)
    # a column that does not score some frames (NaN) uses the others; an empty one is left out
    partial = scores.assign(recon=[0.0, np.nan, 4.0, 6.0], pred=np.nan)
    branches = score_statistics(partial, ["recon", "pred"])["columns"]
    assert set(branches) == {"recon"} and branches["recon"]["frames"] == 2
    assert branches["recon"]["mean"] == 5.0  # exact: (4 + 6) / 2
    # PSNR is negated before normalising, so higher stays more anomalous
    out = anomaly_scores(scores, "psnr", "train_zscore", stats=stats)
    assert out[2] > out[1] > out[3]


def test_options_validate_and_describe() -> None:
    options = ScoringOptions.from_config(
        {"column": "mse", "normalization": "train_minmax", "smoothing": {"sigma": 3, "median": 5}}
    )
    assert options.needs_train_stats and options.sigma == 3.0 and options.median == 5
    assert "train statistics" in options.describe() and "sigma=3" in options.describe()
    assert not ScoringOptions.from_config({}).needs_train_stats
    for bad in (
        {"normalization": "per_video"},
        {"smoothing": {"sigma": -1}},
        {"smoothing": {"median": -3}},
        {"train_range": [0.3, 0.9]},  # 0.3 is not a stored quantile
        {"train_range": [0.99, 0.5]},
    ):
        with pytest.raises(ScoringConfigError):
            ScoringOptions.from_config(bad)
    assert issubclass(ScoringConfigError, VADError)


@pytest.mark.parametrize("method", NORMALIZATIONS)
def test_every_normalisation_keeps_the_order_within_a_video(method: str) -> None:
    rng = np.random.default_rng(1)
    scores = pd.DataFrame(
        {"video": ["a"] * 20 + ["b"] * 20, "frame": list(range(20)) * 2, "mse": rng.random(40)}
    )
    stats = score_statistics(scores.assign(mse=rng.random(40)), ["mse"])
    frame = score_frame(scores, ScoringOptions(column="mse", normalization=method), stats)
    for _, group in frame.groupby("video"):
        raw = scores.loc[group.index, "mse"].to_numpy()
        assert (np.argsort(group["score"].to_numpy()) == np.argsort(raw)).all()


def test_unknown_score_column_names_the_available_ones() -> None:
    scores = pd.DataFrame({"video": ["a"], "frame": [0], "mse": [1.0]})
    with pytest.raises(ScoreFileError, match="'ssim' not found"):
        anomaly_scores(scores, "ssim")


@pytest.mark.parametrize(
    "option",
    sorted(p.stem for p in (Path(__file__).parents[1] / "conf" / "scoring").glob("*.yaml")),
)
def test_every_scoring_config_gives_valid_options(make_cfg, option: str) -> None:
    cfg = make_cfg("predict", [f"scoring={option}"], tiny=False)
    options = ScoringOptions.from_config(cfg.scoring)
    assert options.column in (None, "mse", "psnr", "patch_max")  # None: the model's own column
    assert options.for_model(ModelContract(score_column="density")).column == (
        options.column or "density"
    )
    assert cfg.scoring.train_stats in ("auto", "refit", "never")
    assert cfg.scoring.report.top_k >= 0
