"""The synthetic-data measures equal their definitions on small hand-made tables: identical tables score 1,
disjoint ones their known values, a KS statistic and a total-variation distance computed by hand; TSTR on the
training rows themselves equals TRTR; DCR of copied rows is 0 and of shifted rows the shift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vaekit.evaluate.synthetic import (
    column_shapes,
    design_matrices,
    distance_to_closest_record,
    ml_efficacy,
    pair_trends,
    synthetic_quality,
)
from vaekit.spec import Column, DataSpec

X = Column("x", "real", mean=0.0, std=1.0)
Y = Column("y", "real", mean=0.0, std=1.0)
N = Column("n", "count", mean=3.0, dtype="int64")
C = Column("c", "categorical", ("a", "b", "c"), dtype="object")
B = Column("b", "binary", ("no", "yes"), dtype="object")
SPEC = DataSpec.table((X, Y, N, C, B))


def frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": 2 * x + rng.normal(size=n),
            "n": rng.poisson(3, n),
            "c": rng.choice(["a", "b", "c"], n),
            "b": rng.choice(["no", "yes"], n),
        }
    )


def test_identical_tables_score_one_on_every_shape_and_trend():
    real = frame()
    quality = synthetic_quality(real, frame(seed=1), real.copy(), SPEC)
    assert all(s["score"] == pytest.approx(1.0) for s in quality["column_shapes"].values())
    assert all(t["score"] == pytest.approx(1.0) for t in quality["pair_trends"])
    assert quality["column_shapes_score"] == pytest.approx(1.0) and quality["pair_trends_score"] == pytest.approx(1.0)
    assert len(quality["pair_trends"]) == 10  # every pair of the 5 columns
    assert quality["dcr"]["share_copies"] == 1.0 and quality["dcr"]["synthetic"]["p50"] == 0.0


def test_the_ks_complement_is_one_minus_the_largest_gap_of_the_two_empirical_cdfs():
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    synth = pd.DataFrame({"x": [1.0, 2.0, 3.0, 10.0, 11.0]})
    # F_real - F_synth over the values: at 4, 1 - 3/5 = 0.4 is the largest gap
    assert column_shapes(real, synth, [X])["x"] == {
        "type": "real",
        "metric": "KSComplement",
        "score": pytest.approx(0.6),
    }
    disjoint = pd.DataFrame({"x": [20.0, 30.0]})
    assert column_shapes(real, disjoint, [X])["x"]["score"] == pytest.approx(0.0)


def test_the_tv_complement_is_one_minus_half_the_l1_distance_of_the_category_shares():
    real = pd.DataFrame({"c": ["a", "a", "b", "b"]})  # shares a .5, b .5, c 0
    synth = pd.DataFrame({"c": ["a", "b", "b", "c"]})  # a .25, b .5, c .25
    assert column_shapes(real, synth, [C])["c"]["score"] == pytest.approx(1 - 0.5 * (0.25 + 0 + 0.25))
    assert column_shapes(real, pd.DataFrame({"c": ["c", "c"]}), [C])["c"]["score"] == pytest.approx(0.0, abs=1e-6)


def test_correlation_similarity_is_one_minus_half_the_gap_of_the_pearson_correlations():
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.0, 3.0, 5.0]})
    synth = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [4.0, 3.0, 2.0, 1.0]})  # r = -1
    r = np.corrcoef(real["x"], real["y"])[0, 1]
    (trend,) = pair_trends(real, synth, [X, Y])
    assert trend["metric"] == "CorrelationSimilarity" and trend["columns"] == ["x", "y"]
    assert trend["real"] == pytest.approx(r) and trend["synthetic"] == pytest.approx(-1.0)
    assert trend["score"] == pytest.approx(1 - abs(r + 1) / 2)


def test_contingency_similarity_is_one_minus_half_the_l1_distance_of_the_joint_shares():
    real = pd.DataFrame({"c": ["a", "a", "b", "b"], "b": ["no", "yes", "no", "yes"]})  # 4 cells of 1/4
    synth = pd.DataFrame({"c": ["a", "a", "b", "b"], "b": ["no", "no", "yes", "yes"]})  # (a,no) 1/2, (b,yes) 1/2
    (trend,) = pair_trends(real, synth, [C, B])
    assert trend["metric"] == "ContingencySimilarity"
    assert trend["score"] == pytest.approx(1 - 0.5 * (0.25 + 0.25 + 0.25 + 0.25))


def test_design_matrices_standardize_by_the_reference_and_one_hot_every_category():
    train = pd.DataFrame({"x": [0.0, 2.0], "c": ["a", "b"]})
    other = pd.DataFrame({"x": [4.0], "c": ["c"]})
    a, b = design_matrices([train, other], [X, C])
    np.testing.assert_allclose(a, [[-1.0, 1, 0, 0], [1.0, 0, 1, 0]])  # mean 1, std 1
    np.testing.assert_allclose(b, [[3.0, 0, 0, 1]])


def test_dcr_of_shifted_rows_is_the_shift_in_training_standard_deviations():
    train = pd.DataFrame({"x": np.arange(10.0)})  # std sqrt(8.25)
    test = pd.DataFrame({"x": np.arange(10.0) + 0.5})
    synth = pd.DataFrame({"x": np.full(4, 20.0)})  # 11 past the last training row
    dcr = distance_to_closest_record(train, test, synth, [X])
    std = np.arange(10.0).std()
    assert dcr["synthetic"]["p50"] == pytest.approx(11 / std)
    assert dcr["test"]["p50"] == pytest.approx(0.5 / std)
    assert dcr["share_closer_than_test_p05"] == 0.0 and dcr["share_copies"] == 0.0
    copies = distance_to_closest_record(train, test, train.copy(), [X])
    assert copies["share_closer_than_test_p05"] == 1.0 and copies["share_copies"] == 1.0


def test_tstr_on_the_training_rows_themselves_equals_trtr():
    train, test = frame(200, seed=0), frame(100, seed=1)
    result = ml_efficacy(train, test, train.copy(), list(SPEC.columns), "b", seed=0)
    assert result["task"] == "classification" and result["tstr"] == result["trtr"]
    assert result["tstr_macro_f1"] == result["trtr_macro_f1"]
    regression = ml_efficacy(train, test, train.copy(), list(SPEC.columns), "y", seed=0)
    assert regression["metric"] == "r2" and regression["tstr"] == regression["trtr"] > 0.5  # y = 2x + noise


def test_tstr_on_rows_with_the_target_shuffled_falls_to_chance():
    train, test = frame(300, seed=0), frame(200, seed=1)
    noise = train.copy()
    noise["y"] = np.random.default_rng(5).permutation(noise["y"].to_numpy())  # y no longer depends on x
    result = ml_efficacy(train, test, noise, list(SPEC.columns), "y", seed=0)
    assert result["trtr"] > 0.5 and result["tstr"] < 0.1
