"""Disentanglement metrics on codes whose answer is known: the factors themselves, constants, copies, noise."""

from __future__ import annotations

import numpy as np
import pytest

from vaekit.data.shapes import FACTOR_SIZES, sample_factors
from vaekit.evaluate.boosting import boosted_importance
from vaekit.evaluate.disentanglement import (
    DCI_MODELS,
    beta_vae_score,
    dci_disentanglement,
    dci_importance,
    factorvae_score,
    mig,
)

SIZES = np.array(FACTOR_SIZES)
K = len(FACTOR_SIZES)
CHANCE = 1 / K


def perfect(factors: np.ndarray) -> np.ndarray:
    """Codes that hold each factor, scaled to [0, 1], in its own dimension (and in an order of their own)."""
    return (factors / (SIZES - 1))[:, [2, 0, 4, 1, 3]]


def constant(factors: np.ndarray) -> np.ndarray:
    return np.full((len(factors), K), 0.3)


def duplicated(factors: np.ndarray) -> np.ndarray:
    """Every dimension a copy of pos_x."""
    return np.repeat(factors[:, 3:4] / 31, K, axis=1)


def mixed(factors: np.ndarray) -> np.ndarray:
    """Perfect codes whose pos_x and pos_y dimensions are rotated into each other by 45 degrees."""
    codes = factors / (SIZES - 1)
    codes[:, 3], codes[:, 4] = codes[:, 3] + codes[:, 4], codes[:, 3] - codes[:, 4]
    return codes


def noise_encoder(seed: int):
    rng = np.random.default_rng(seed)
    return lambda factors: rng.normal(size=(len(factors), K))


@pytest.fixture(scope="module")
def factors() -> np.ndarray:
    return sample_factors(4000, np.random.default_rng(0))  # (4000, 5)


def test_mig_is_one_for_perfect_codes_and_zero_for_constant_or_duplicated(factors: np.ndarray) -> None:
    assert mig(perfect(factors), factors, num_bins=40) > 0.95  # 40 bins hold each of up to 40 values
    assert 0.8 < mig(perfect(factors), factors) < 1  # 20 bins merge values of the 32- and 40-valued factors
    assert mig(constant(factors), factors) == 0
    assert mig(duplicated(factors), factors) == pytest.approx(0, abs=0.01)  # two equal top dimensions: no gap
    assert mig(mixed(factors), factors, num_bins=40) == pytest.approx(3 / 5, abs=0.05)  # pos_x, pos_y: no gap


def test_mig_is_low_for_random_codes(factors: np.ndarray) -> None:
    score = mig(np.random.default_rng(1).normal(size=(len(factors), K)), factors)
    assert 0 <= score < 0.02


@pytest.mark.parametrize("model", DCI_MODELS)
def test_dci_disentanglement_separates_perfect_from_uninformative_codes(factors: np.ndarray, model: str) -> None:
    f = factors[:800]

    def dci(codes: np.ndarray) -> float:
        return dci_disentanglement(codes, f, np.random.default_rng(2), model, num_trees=10)

    assert dci(perfect(f)) > 0.95
    assert dci(constant(f)) == 0
    assert dci(duplicated(f)) < 0.1
    assert dci(np.random.default_rng(3).normal(size=(len(f), K))) < 0.1
    assert 0.3 < dci(mixed(f)) < 0.9  # pos_x and pos_y share two dimensions


@pytest.mark.parametrize("model", DCI_MODELS)
def test_dci_importance_is_the_same_on_any_number_of_workers_as_one_classifier_per_factor_in_turn(
    factors: np.ndarray, model: str
) -> None:
    from sklearn.ensemble import RandomForestClassifier

    f = factors[:300].copy()
    f[:, 1] = 2  # a constant factor draws no seed and keeps a column of zeros
    codes = mixed(f) + np.random.default_rng(20).normal(scale=0.1, size=f.shape)
    rng = np.random.default_rng(21)  # the reference: each varying factor's classifier in turn, seeds in factor order
    reference = np.zeros((K, K))
    for k in (0, 2, 3, 4):
        seed = int(rng.integers(2**31))
        if model == "boosting":
            reference[:, k] = boosted_importance(codes, f[:, k], np.random.default_rng(seed), 5)
        else:
            forest = RandomForestClassifier(5, max_features=None, random_state=seed)
            reference[:, k] = forest.fit(codes, f[:, k]).feature_importances_
    for workers in (1, 3):
        got = dci_importance(codes, f, np.random.default_rng(21), model, 5, num_workers=workers)
        np.testing.assert_array_equal(got, reference)


def _beta_vae(encode, seed: int = 4) -> float:
    return beta_vae_score(encode, FACTOR_SIZES, np.random.default_rng(seed), batch_size=16, num_train=300, num_eval=200)


def test_beta_vae_score_is_one_for_perfect_codes_and_chance_for_uninformative_ones() -> None:
    assert _beta_vae(perfect) == 1
    assert _beta_vae(constant) == pytest.approx(CHANCE, abs=0.1)  # the classifier names its most frequent factor
    assert _beta_vae(noise_encoder(5)) == pytest.approx(CHANCE, abs=0.1)
    # Copies of pos_x tell "pos_x was fixed" from the rest, and nothing more: 1/K + (K-1)/K * 1/(K-1) = 2/K.
    assert _beta_vae(duplicated) == pytest.approx(2 * CHANCE, abs=0.1)


def _factorvae(encode, seed: int = 6) -> float:
    rng = np.random.default_rng(seed)
    return factorvae_score(
        encode, FACTOR_SIZES, rng, batch_size=16, num_train=200, num_eval=200, num_variance_estimate=1000
    )


def test_factorvae_score_is_one_for_perfect_codes_and_low_for_uninformative_ones() -> None:
    assert _factorvae(perfect) == 1
    assert _factorvae(constant) == 0  # every dimension pruned: nothing votes
    assert _factorvae(noise_encoder(7)) == pytest.approx(CHANCE, abs=0.1)
    assert _factorvae(duplicated) == pytest.approx(CHANCE, abs=0.1)  # ties: one dimension takes every vote
    assert 0.5 < _factorvae(mixed) < 1  # pos_x and pos_y vary in both of their dimensions


def test_every_score_lies_in_the_unit_interval_and_repeats_with_its_seed(factors: np.ndarray) -> None:
    codes = np.random.default_rng(8).normal(size=(400, K)) + perfect(factors[:400])
    f = factors[:400]
    scores = [
        (mig(codes, f), mig(codes, f)),
        tuple(dci_disentanglement(codes, f, np.random.default_rng(9), num_trees=5) for _ in range(2)),
        tuple(dci_disentanglement(codes, f, np.random.default_rng(9), "forest", 5) for _ in range(2)),
        (_beta_vae(mixed, seed=10), _beta_vae(mixed, seed=10)),
        (_factorvae(noise_encoder(11), seed=12), _factorvae(noise_encoder(11), seed=12)),
    ]
    for first, again in scores:
        assert 0 <= first <= 1 and first == again
    assert _beta_vae(noise_encoder(11), seed=13) != _beta_vae(noise_encoder(11), seed=14)


def test_metrics_reject_malformed_inputs(factors: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        mig(np.zeros((3, 2)), factors)
    with pytest.raises(ValueError, match="integer"):
        mig(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="DCI model must be one of"):
        dci_disentanglement(np.zeros((3, 2)), np.zeros((3, 2), dtype=int), np.random.default_rng(0), "lasso")
    with pytest.raises(ValueError, match="encode must return"):
        _beta_vae(lambda f: np.zeros(len(f)))
