"""Gradient-boosted importances against scikit-learn's GradientBoostingClassifier, which they reproduce."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier

from vaekit.evaluate.boosting import boosted_importance


def continuous_codes(num: int, num_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels (N,) and codes (N, 6) of which three carry them (linearly mixed, with noise) and three are noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, size=num)
    signal = labels[:, None] / max(num_classes - 1, 1) @ rng.normal(size=(1, 3)) + 0.3 * rng.normal(size=(num, 3))
    return np.concatenate([signal, rng.normal(size=(num, 3))], axis=1), labels


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def sklearn_importance(codes: np.ndarray, labels: np.ndarray, num_trees: int, seed: int = 0) -> np.ndarray:
    return GradientBoostingClassifier(n_estimators=num_trees, random_state=seed).fit(codes, labels).feature_importances_


@pytest.mark.parametrize(("num_classes", "num_trees", "seed"), [(2, 20, 2), (3, 10, 3), (6, 6, 3)])
def test_importances_equal_scikit_learns_on_data_where_no_two_features_split_a_node_alike(
    num_classes: int, num_trees: int, seed: int
) -> None:
    # On other seeds of this data a few small nodes (2 or 3 samples) split alike on several features, each
    # implementation gives such a node to a feature of its random choice, and importances differ by up to 0.007.
    codes, labels = continuous_codes(3000, num_classes, seed)
    ours = boosted_importance(codes, labels, rng(0), num_trees)
    np.testing.assert_allclose(ours, sklearn_importance(codes, labels, num_trees), rtol=0, atol=1e-8)
    assert ours.sum() == pytest.approx(1.0)
    assert ours[3:].sum() < 0.2 < ours[:3].sum()  # the noise dimensions serve less


def test_features_that_split_alike_share_the_importance_at_random_as_in_scikit_learn() -> None:
    codes, labels = continuous_codes(3000, 3, seed=7)
    codes = np.concatenate([codes[:, 1:2], codes], axis=1)  # 0 and 2 are the same, the most useful: their splits tie
    ours = [boosted_importance(codes, labels, rng(seed), 10) for seed in (0, 1)]
    theirs = sklearn_importance(codes, labels, 10)
    for got in ours:
        assert got[0] > 0.2 and got[2] > 0.2  # each copy takes some of the ties, as in scikit-learn
        np.testing.assert_allclose(got[0] + got[2], theirs[0] + theirs[2], atol=1e-8)
        np.testing.assert_allclose(got[[1, 3, 4, 5, 6]], theirs[[1, 3, 4, 5, 6]], atol=1e-8)
    assert ours[0][0] != ours[1][0]  # which copy takes a tie is drawn
    np.testing.assert_array_equal(boosted_importance(codes, labels, rng(0), 10), ours[0])  # and repeats with its seed


def test_labels_are_classes_whatever_their_values() -> None:
    codes, labels = continuous_codes(1000, 4, seed=3)
    expected = boosted_importance(codes, labels, rng(0), 4)
    for names in ([-2, 5, 17, 40], ["cat", "dog", "eel", "fox"]):  # same classes in the same order
        np.testing.assert_array_equal(boosted_importance(codes, np.array(names)[labels], rng(0), 4), expected)


def test_nothing_to_split_gives_zeros_and_values_closer_than_float32_sees_are_one_value() -> None:
    codes, labels = continuous_codes(500, 3, seed=1)
    np.testing.assert_array_equal(boosted_importance(np.full_like(codes, 0.25), labels, rng(0), 3), np.zeros(6))
    np.testing.assert_array_equal(boosted_importance(codes, np.full(500, 4), rng(0), 3), np.zeros(6))
    blurred = np.full_like(codes, 1.0)
    blurred[:, 2] += labels * 1e-9  # distinct in float64, one value in float32 (as scikit-learn's trees see it)
    np.testing.assert_array_equal(boosted_importance(blurred, labels, rng(0), 3), np.zeros(6))
