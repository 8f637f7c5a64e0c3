"""He et al. 2019's estimate of I(x; z) against a closed form; active units from running moments; the per-epoch
diagnostics of a model."""

import math

import pytest
import torch

from linear_gaussian import data, linear_gaussian_vae
from vaekit.evaluate.diagnostics import (
    active_units,
    active_units_of_moments,
    latent_diagnostics,
    mutual_information,
    mutual_information_terms,
)


def linear_gaussian_posterior(batch: int, a: float, s: float, seed: int):
    """x ~ N(0, 1), q(z|x) = N(a x, s^2): mu, logvar and one draw z, each (B, 1), float64."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 1, generator=g, dtype=torch.float64)
    mu, logvar = a * x, torch.full_like(x, 2 * math.log(s))
    return mu, logvar, mu + s * torch.randn(batch, 1, generator=g, dtype=torch.float64)


def test_estimate_converges_to_the_closed_form_as_the_batch_grows():
    a, s = 3.0, 0.5
    exact = 0.5 * math.log(1 + a**2 / s**2)  # I(x; z) of a Gaussian channel: 1.805 nats
    # the estimator's spread over seeds at 2000 examples is about 0.015 nats (measured); 0.075 is five of it
    large = [mutual_information(*linear_gaussian_posterior(2000, a, s, seed)) for seed in range(2)]
    assert all(abs(e - exact) < 0.075 for e in large)
    small = [mutual_information(*linear_gaussian_posterior(10, a, s, seed)) for seed in range(20)]
    # with 10 examples q(z) is a mixture of 10: the estimate is at most log 10 and biased low (mean 1.3 measured)
    assert max(small) <= math.log(10) + 1e-9
    assert sum(small) / len(small) < exact - 0.3
    error = [
        abs(sum(mutual_information(*linear_gaussian_posterior(b, a, s, r)) for r in range(5)) / 5 - exact)
        for b in (10, 100, 1000)
    ]
    assert error[0] > error[1] > error[2]


def test_several_dimensions_of_one_signal():
    # z_d = a_d x + s_d eps_d: I = 0.5 log(1 + sum_d a_d^2 / s_d^2)
    g = torch.Generator().manual_seed(0)
    a, s = torch.tensor([1.0, 2.0]), torch.tensor([0.5, 1.0])
    x = torch.randn(2000, 1, generator=g, dtype=torch.float64)
    mu = a * x  # (B, 2)
    z = mu + s * torch.randn(2000, 2, generator=g, dtype=torch.float64)
    exact = 0.5 * math.log(1 + float((a**2 / s**2).sum()))
    assert mutual_information(mu, (2 * s.log()).expand(2000, 2), z) == pytest.approx(exact, abs=0.075)


def test_a_posterior_independent_of_x_carries_no_information():
    g = torch.Generator().manual_seed(1)
    batch, dim = 2000, 5
    mu = torch.full((batch, dim), 0.7, dtype=torch.float64)  # the same q(z|x) for every x
    logvar = torch.full((batch, dim), -1.0, dtype=torch.float64)
    z = mu + (0.5 * logvar).exp() * torch.randn(batch, dim, generator=g, dtype=torch.float64)
    terms = mutual_information_terms(mu, logvar, z)
    # each term is -H - log q(z_i) with mean 0 and variance D / 2: the mean's standard error is sqrt(D / 2B)
    assert abs(float(terms.mean())) < 4 * math.sqrt(dim / 2 / batch)


def test_estimate_is_computed_in_chunks_without_changing_it():
    mu, logvar, z = linear_gaussian_posterior(300, 2.0, 0.3, 0)
    torch.testing.assert_close(
        mutual_information_terms(mu, logvar, z, chunk=7), mutual_information_terms(mu, logvar, z)
    )


def test_tiny_posterior_variances_keep_the_estimate_finite_and_at_most_log_b():
    # an autoencoder-like posterior (sigma 1e-4): each draw is explained by its own x alone, so I is log B less
    # the few pairs of x closer than a few sigma; float64 keeps the quadratic expansion exact, float32 inputs too
    mu, logvar, z = linear_gaussian_posterior(500, 1.0, 1e-4, 0)
    mi = mutual_information(mu, logvar, z)
    assert math.log(500) - 0.1 < mi <= math.log(500) + 1e-9
    assert mutual_information(mu.float(), logvar.float(), z.float()) == pytest.approx(mi, abs=0.02)


def test_active_units_from_moments_equal_those_of_the_means():
    g = torch.Generator().manual_seed(0)
    means = torch.randn(3000, 4, generator=g, dtype=torch.float64) * torch.tensor([1.0, 0.3, 0.05, 0.0]) + 2.0
    count, variance = active_units(means)
    count2, variance2 = active_units_of_moments(means.mean(0), means.pow(2).mean(0), 3000)
    assert count == count2 == 2
    torch.testing.assert_close(variance2, variance, atol=1e-9, rtol=1e-9)


def test_latent_diagnostics_of_a_model_sum_batches_as_one_pass():
    model, _ = linear_gaussian_vae(exact_posterior=False)
    x = data(300)
    caps = frozenset({"gaussian_posterior", "latent_vector"})
    whole = latent_diagnostics(model, x, caps, batch_size=300, generator=torch.Generator().manual_seed(0))
    parts = latent_diagnostics(model, x, caps, batch_size=100, generator=torch.Generator().manual_seed(0))
    assert whole["active_units"] == parts["active_units"] == active_units(model.encode(x))[0]
    assert whole["mi_batch_size"] == 300 and parts["mi_batch_size"] == 100
    assert 0 < parts["mi"] <= math.log(100) + 1e-6 and 0 < whole["mi"] <= math.log(300) + 1e-6
    assert latent_diagnostics(model, x, frozenset()) == {}
