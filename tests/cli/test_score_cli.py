"""`vaekit score` and `vaekit evaluate --synthetic N` on tiny runs: planted outliers score below held-out inliers
(a table and images), the scores file has its columns and the file's row keys, refuses to overwrite, refuses a
missing cell; synthetic rows are measured and written as a report."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from vaekit.cli.main import main
from vaekit.config import load_config
from vaekit.evaluate.likelihood import PixelMeasure
from vaekit.run import load_run
from vaekit.workflow.scoring import score_images, score_table
from vaekit.workflow.training import train

TABLE_RUN = [
    "model.latent_dim=2",
    "model.network.hidden=[32]",
    "model.likelihood.type=columns",
    "model.likelihood.learn_sigma=per_column",
    "train.epochs=30",
    "train.batch_size=32",
    "train.progress=false",
    "train.num_sample_images=4",
]
IMAGE_RUN = [
    "data.source=digits",
    "model.latent_dim=4",
    "model.network.hidden=[32]",
    "train.epochs=3",
    "train.batch_size=128",
    "train.progress=false",
    "train.num_sample_images=4",
]


def rows(n: int, seed: int) -> pd.DataFrame:
    """Two strongly correlated real columns and a category that shifts them."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["p", "q"], n)
    a = rng.normal(0, 1, n) + 2 * (kind == "q")
    return pd.DataFrame({"a": a.round(3), "b": (a + rng.normal(0, 0.2, n)).round(3), "kind": kind})


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("score")
    rows(400, 0).to_csv(tmp / "train.csv", index=False)
    out = tmp / "run"
    train(load_config(overrides=[f"data.source={tmp / 'train.csv'}", *TABLE_RUN]), out)
    return tmp, out


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("score-images") / "run"
    train(load_config(overrides=IMAGE_RUN), out)
    return out


def test_planted_outlier_rows_score_below_every_held_out_inlier(table_run):
    tmp, out = table_run
    inliers = rows(60, seed=1)
    outliers = pd.DataFrame({"a": [8.0, -7.0, 0.0, 3.0], "b": [8.0, -7.0, 6.0, -3.0], "kind": ["p", "q", "p", "q"]})
    (tmp / "mixed.csv").write_text(pd.concat([inliers, outliers]).to_csv(index=False))
    scores = score_table(load_run(out), str(tmp / "mixed.csv"), num_samples=200)
    assert list(scores["row"]) == list(range(64))  # the file's rows, in order
    inlier, outlier = scores["log_likelihood"][:60], scores["log_likelihood"][60:]
    assert outlier.max() < inlier.min(), (outlier.tolist(), inlier.min())
    # the broken correlation (rows 62, 63: b far from a) is charged to b given a's code, not to a
    broken = scores.iloc[62:]
    assert (broken["log_p_b"] < broken["log_p_a"]).all()


def test_scores_add_up_and_the_estimate_is_above_the_elbo_on_average(table_run):
    tmp, out = table_run
    rows(50, seed=2).to_csv(tmp / "new.csv", index=False)
    scores = score_table(load_run(out), str(tmp / "new.csv"), num_samples=100, seed=3)
    shares = scores[["log_p_a", "log_p_b", "log_p_kind", "latent"]].sum(axis=1)
    np.testing.assert_allclose(shares, scores["log_likelihood"], atol=1e-4)  # float32 model
    assert (scores["log_likelihood"] >= scores["elbo"] - 1e-5).all()  # the same draws: Jensen
    gap = scores["log_likelihood"] - scores["elbo"]
    assert gap.mean() > 3 * gap.std() / math.sqrt(len(gap))  # and above it on average, not by rounding


def test_the_score_command_writes_keyed_columns_and_refuses_to_overwrite(table_run, capsys):
    tmp, out = table_run
    rows(30, seed=3).to_csv(tmp / "cli.csv", index=False)
    target = tmp / "scores.csv"
    command = ["score", str(out), "--data", str(tmp / "cli.csv"), "--out", str(target)]
    assert main([*command, "--num-samples", "20"]) == 0
    assert capsys.readouterr().out.strip().endswith(f"wrote the scores of 30 rows (7 columns) to {target}")
    scores = pd.read_csv(target)
    assert list(scores.columns) == ["row", "log_likelihood", "elbo", "log_p_a", "log_p_b", "log_p_kind", "latent"]
    assert list(scores["row"]) == list(range(30)) and np.isfinite(scores.drop(columns="row").to_numpy()).all()
    before = target.read_bytes()
    assert main(["score", str(out), "--data", str(tmp / "cli.csv"), "--out", str(target)]) == 2
    assert target.read_bytes() == before  # refused, untouched
    assert (
        main(["score", str(out), "--data", str(tmp / "cli.csv"), "--out", str(target), "--force", "--seed", "9"]) == 0
    )
    assert target.read_bytes() != before


def test_a_row_with_a_missing_cell_is_refused_naming_it_and_nothing_is_written(table_run, capsys):
    tmp, out = table_run
    holed = rows(5, seed=4)
    holed.loc[2, "b"] = np.nan
    holed.to_csv(tmp / "holed.csv", index=False)
    assert main(["score", str(out), "--data", str(tmp / "holed.csv"), "--out", str(tmp / "holed-scores.csv")]) == 2
    err = capsys.readouterr().err
    assert "'b'" in err and "row 3" in err and not (tmp / "holed-scores.csv").exists()


def test_noise_images_score_below_every_held_out_digit(image_run):
    run = load_run(image_run)
    digits = score_images(run, num_samples=50)  # the run's own test split
    assert list(digits.columns) == ["index", "log_likelihood", "elbo"]  # Bernoulli on 17 levels: no bits/dim
    assert list(digits["index"]) == list(range(len(digits)))
    noise = torch.rand(20, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    noise_scores = run.score(noise, num_samples=50, generator=torch.Generator().manual_seed(0))
    assert noise_scores.log_likelihood.max().item() < digits["log_likelihood"].min()
    assert noise_scores.columns is None


def test_bits_per_dim_of_each_image_only_where_it_is_one():
    ll = torch.tensor([-100.0, -200.0], dtype=torch.float64)
    np.testing.assert_allclose(PixelMeasure("binary", 2).example_bits_per_dim(ll, 50), -ll / (50 * math.log(2)))
    deq = PixelMeasure("real", 256).example_bits_per_dim(ll, 50)
    report = PixelMeasure("real", 256).restate({"bits_per_dim": float(-ll[0] / (50 * math.log(2)))}, 50)
    assert float(deq[0]) == pytest.approx(report["bits_per_dim"])  # the bound `vaekit evaluate` reports
    assert PixelMeasure("real", None).example_bits_per_dim(ll, 50) is None
    assert PixelMeasure("columns", None).example_bits_per_dim(ll, 50) is None


def test_evaluate_synthetic_measures_drawn_rows_and_writes_them(table_run, capsys):
    tmp, out = table_run
    target = tmp / "synthetic.json"
    args = ["evaluate", str(out), "--synthetic", "300", "--target", "kind", "--out", str(target)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "300 synthetic rows (seed 0)" in printed and "TSTR / TRTR" in printed
    report = json.loads(target.read_text())
    assert sorted(report["column_shapes"]) == ["a", "b", "kind"] and len(report["pair_trends"]) == 3
    assert 0 <= report["column_shapes_score"] <= 1 and report["num_synthetic"] == 300
    assert report["ml_efficacy"]["target"] == "kind" and report["ml_efficacy"]["task"] == "classification"
    # the run learned the table (measured: r 0.99 real, 0.61 synthetic; TSTR 0.75, TRTR 0.83): its rows keep much of
    # the a-b correlation and predict 'kind' better than chance (0.5), which an untrained decoder's rows would not
    (ab,) = [t for t in report["pair_trends"] if t["columns"] == ["a", "b"]]
    assert (
        ab["real"] > 0.95
        and ab["synthetic"] > 0.3
        and ab["score"] == pytest.approx(1 - abs(ab["real"] - ab["synthetic"]) / 2)
    )
    assert report["ml_efficacy"]["tstr"] > 0.6
    assert report["dcr"]["share_copies"] == 0.0
    assert main(["evaluate", str(out), "--synthetic", "10", "--target", "nope"]) == 2
    assert "--target 'nope' is not a column the run generates" in capsys.readouterr().err


def test_evaluate_synthetic_refuses_images(image_run, capsys):
    assert main(["evaluate", str(image_run), "--synthetic", "10"]) == 2
    assert "--synthetic measures synthetic rows of a table" in capsys.readouterr().err
