"""The posterior distribution: reparameterization, closed-form KL, explicit generators."""

import torch
from torch.distributions import Independent, Normal, kl_divergence

from vaekit.distributions import DiagonalGaussian, standard_normal


def make_q(batch=4, dim=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(batch, dim, generator=g, dtype=torch.float64)
    logvar = torch.randn(batch, dim, generator=g, dtype=torch.float64)
    return DiagonalGaussian(mu, logvar)


def test_closed_form_kl_matches_torch_and_monte_carlo():
    q = make_q()
    pz = standard_normal(3, dtype=torch.float64)
    analytic = q.kl_to_standard_normal().sum(-1)  # (B,)
    reference = kl_divergence(Independent(Normal(q.loc, q.base_dist.scale), 1), Independent(Normal(pz.loc, 1.0), 1))
    torch.testing.assert_close(analytic, reference)
    g = torch.Generator().manual_seed(1)
    z = q.sample((200_000,), generator=g)  # (S, B, D)
    log_ratio = q.log_prob(z) - pz.log_prob(z)  # (S, B)
    monte_carlo = log_ratio.mean(0)
    stderr = log_ratio.std(0) / 200_000**0.5
    assert torch.all((monte_carlo - analytic).abs() < 5 * stderr)


def test_kl_is_zero_exactly_at_the_prior_and_positive_elsewhere():
    zeros = torch.zeros(2, 5, dtype=torch.float64)
    assert torch.equal(DiagonalGaussian(zeros, zeros).kl_to_standard_normal(), zeros)
    assert torch.all(make_q().kl_to_standard_normal() > 0)


def test_rsample_is_mu_plus_sigma_eps_and_gradients_reach_mu_and_logvar():
    mu = torch.tensor([[1.0, -2.0]], requires_grad=True)
    logvar = torch.tensor([[0.5, -1.0]], requires_grad=True)
    q = DiagonalGaussian(mu, logvar)
    z = q.rsample(generator=torch.Generator().manual_seed(3))
    eps = torch.randn(1, 2, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(z, mu + torch.exp(0.5 * logvar) * eps)
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones(1, 2))
    torch.testing.assert_close(logvar.grad, 0.5 * torch.exp(0.5 * logvar.detach()) * eps)


def test_same_generator_seed_gives_same_draws():
    q = make_q()
    a = q.rsample((3,), generator=torch.Generator().manual_seed(7))
    b = q.rsample((3,), generator=torch.Generator().manual_seed(7))
    c = q.rsample((3,), generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
