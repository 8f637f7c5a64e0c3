"""The importance-weighted log p(x) estimate against the exact log p(x) of a linear-Gaussian model."""

import math

import pytest
import torch

from linear_gaussian import data, linear_gaussian_vae
from markers import needs_compiler
from tiny_configs import TINY_VAE_RUN
from vaekit.config import load_config
from vaekit.evaluate.likelihood import bits_per_dim, iw_log_likelihood
from vaekit.models import build_model
from vaekit.objectives import elbo_terms, log_importance_weights


@torch.no_grad()
def weight_spread(model, x, samples=200_000):
    """Relative variance Var(w) / E[w]^2 of the importance weights, per example, from a large draw."""
    qz_x = model.posterior(x)
    z = qz_x.sample((samples,), generator=torch.Generator().manual_seed(123))
    log_w = log_importance_weights(model, x, qz_x, z)  # (S, B)
    log_mean = torch.logsumexp(log_w, 0) - math.log(samples)
    log_second = torch.logsumexp(2 * log_w, 0) - math.log(samples)
    return torch.exp(log_second - 2 * log_mean) - 1


def test_iw_estimate_converges_to_exact_log_px_within_a_tolerance_derived_from_k():
    model, marginal = linear_gaussian_vae(exact_posterior=False)
    x = data()
    k = 5000
    estimate = iw_log_likelihood(model, x, k, torch.Generator().manual_seed(0), max_chunk_elements=4096)
    exact = marginal.log_prob(x.flatten(1))
    # delta method: log of a mean of k weights has std ~ sqrt(rel_var / k) and bias ~ -rel_var / (2k)
    rel_var = weight_spread(model, x)
    tolerance = 5 * torch.sqrt(rel_var / k) + rel_var / (2 * k)
    assert torch.all((estimate - exact).abs() < tolerance), (estimate - exact, tolerance)
    # and the ELBO is below by several times that tolerance
    elbo = elbo_terms(model, x, 20_000, torch.Generator().manual_seed(1)).elbo
    assert torch.all(elbo < exact - 5 * tolerance)


def test_iw_estimate_is_exact_for_any_k_when_q_is_the_exact_posterior():
    model, marginal = linear_gaussian_vae(exact_posterior=True)
    x = data()
    estimate = iw_log_likelihood(model, x, 3, torch.Generator().manual_seed(0))
    torch.testing.assert_close(estimate, marginal.log_prob(x.flatten(1)), atol=1e-9, rtol=0)


def test_in_expectation_elbo_below_iw5_below_iw50():
    model, _ = linear_gaussian_vae(exact_posterior=False)
    x = data(4)
    reps = 400
    g = torch.Generator().manual_seed(5)
    bounds = {k: torch.stack([iw_log_likelihood(model, x, k, g) for _ in range(reps)]) for k in (1, 5, 50)}
    means = {k: v.mean(0) for k, v in bounds.items()}
    stderr = {k: v.std(0) / math.sqrt(reps) for k, v in bounds.items()}
    elbo = elbo_terms(model, x, 20_000, g).elbo
    torch.testing.assert_close(means[1], elbo, atol=float(5 * stderr[1].max()), rtol=0)  # IW_1 is the ELBO
    assert torch.all(means[1] + 3 * (stderr[1] + stderr[5]) < means[5])
    assert torch.all(means[5] + 3 * (stderr[5] + stderr[50]) < means[50])


def test_chunks_combine_to_the_logsumexp_over_all_samples():
    model, _ = linear_gaussian_vae(exact_posterior=False)
    x = data(3)
    k, chunk = 100, 7
    chunked = iw_log_likelihood(model, x, k, torch.Generator().manual_seed(2), max_chunk_elements=7 * 18)
    # the same draws, in the same chunks, combined in one logsumexp
    g = torch.Generator().manual_seed(2)
    qz_x = model.posterior(x)
    with torch.no_grad():
        log_w = torch.cat(
            [
                log_importance_weights(model, x, qz_x, qz_x.sample((min(chunk, k - s),), generator=g))
                for s in range(0, k, chunk)
            ]
        )  # (K, B)
    torch.testing.assert_close(chunked, torch.logsumexp(log_w, 0) - math.log(k))


@needs_compiler
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_fused_estimate_uses_the_same_draws_and_equals_the_eager_one(likelihood):
    """The compiled log-weights (fused=True) give the eager estimate to float64 rounding, for the same seed."""
    cfg = load_config(overrides=[*TINY_VAE_RUN, f"model.likelihood.type={likelihood}"]).model
    model = build_model(cfg, (1, 4, 4), seed=0).double().eval()
    x = torch.rand(5, 1, 4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64).round()
    eager = iw_log_likelihood(model, x, 60, torch.Generator().manual_seed(1), max_chunk_elements=320, fused=False)
    fused = iw_log_likelihood(model, x, 60, torch.Generator().manual_seed(1), max_chunk_elements=320, fused=True)
    torch.testing.assert_close(fused, eager, rtol=0, atol=1e-9)


def test_bits_per_dim_converts_nats_per_example():
    assert bits_per_dim(-784 * math.log(2), 784) == 1.0
