"""The ELBO on a linear-Gaussian model, where log p(x) and the exact posterior are known in closed form."""

import math

import torch

from linear_gaussian import D, data, linear_gaussian_vae
from vaekit.objectives import Elbo, elbo_terms


def mc_elbo(model, x, samples=100_000):
    """ELBO per example and its Monte Carlo standard error."""
    g = torch.Generator().manual_seed(1)
    qz_x = model.posterior(x)
    z = qz_x.sample((samples,), generator=g)  # (S, B, D)
    log_px_z = model.likelihood(z).log_prob(x)  # (S, B)
    kl = model.kl_per_dim(qz_x).sum(-1)
    values = log_px_z - kl  # (S, B)
    return values.mean(0), values.std(0) / math.sqrt(samples)


def test_elbo_equals_exact_log_px_when_q_is_the_exact_posterior():
    model, marginal = linear_gaussian_vae(exact_posterior=True)
    x = data()
    elbo, stderr = mc_elbo(model, x)
    log_px = marginal.log_prob(x.flatten(1))
    assert torch.all((elbo - log_px).abs() < 5 * stderr + 1e-9)


def test_elbo_is_below_exact_log_px_for_another_q():
    model, marginal = linear_gaussian_vae(exact_posterior=False)
    x = data()
    elbo, stderr = mc_elbo(model, x)
    log_px = marginal.log_prob(x.flatten(1))
    assert torch.all(elbo + 5 * stderr < log_px)


def test_num_samples_averages_reconstruction_over_draws():
    model, _ = linear_gaussian_vae(exact_posterior=False)
    x = data(3)
    with torch.no_grad():
        many = torch.stack([elbo_terms(model, x, 64, torch.Generator().manual_seed(s)).log_px_z for s in range(20)])
        few = torch.stack([elbo_terms(model, x, 1, torch.Generator().manual_seed(s)).log_px_z for s in range(20)])
    assert many.shape == few.shape == (20, 3)
    # averaging L draws divides the estimator's variance by L (64 here); allow sampling noise
    assert torch.all(many.var(0) < few.var(0) / 8)
    torch.testing.assert_close(many.mean(0), few.mean(0), atol=float(4 * few.std(0).max() / 20**0.5), rtol=0)


def test_loss_is_negative_beta_weighted_elbo_averaged_over_batch():
    model, _ = linear_gaussian_vae(exact_posterior=False)
    x = data(4)
    terms = elbo_terms(model, x, 1, torch.Generator().manual_seed(2))
    out = Elbo(beta=4.0)(model, x, step=0, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(out.loss, -(terms.log_px_z - 4.0 * terms.kl).mean())
    torch.testing.assert_close(out.metrics["elbo"], terms.elbo.mean())


def test_gradients_reach_encoder_parameters_through_z():
    model, _ = linear_gaussian_vae(exact_posterior=False)
    x = data(4)
    terms = elbo_terms(model, x, 1, torch.Generator().manual_seed(3))
    # only the reconstruction term: any gradient on the encoder's mu rows must flow through z = mu + sigma * eps
    mu_rows = model.posterior_head.linear.weight
    (grad,) = torch.autograd.grad(terms.log_px_z.sum(), mu_rows)
    assert grad[:D].abs().sum() > 0 and grad[D:].abs().sum() > 0
