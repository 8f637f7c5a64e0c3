"""The distributions: the posterior's reparameterization, closed-form KL and explicit generators; Bernoulli pixels."""

import pytest
import torch
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from vaekit.distributions import BernoulliPixels, DiagonalGaussian, bernoulli_log_prob, product_rows, standard_normal


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


@pytest.mark.parametrize("pixels", [1, 7, 784, 3072, 2 * 3 * 5 * 7 * 11])
def test_bernoulli_log_prob_is_torchs_in_float64_for_any_number_of_pixels(pixels):
    """Binary pixels and intensities in [0, 1], logits up to +-100 (factors 1 + exp(-100)), x broadcast over (S, B)."""
    g = torch.Generator().manual_seed(pixels)
    logits = torch.randn(3, 4, pixels, generator=g, dtype=torch.float64) * 30  # (S, B, N)
    logits[0, 0, 0], logits[1, 1, -1] = 100.0, -100.0
    for x in (torch.rand(4, pixels, generator=g, dtype=torch.float64).round(), torch.rand(4, pixels, generator=g)):
        x = x.double()
        expected = Bernoulli(logits=logits).log_prob(x.expand_as(logits)).sum(-1)  # (S, B)
        torch.testing.assert_close(bernoulli_log_prob(logits, x), expected, rtol=1e-12, atol=1e-9)
        # float32: as close to the float64 value as torch's own float32 log_prob is, within a factor of 3
        ours = (bernoulli_log_prob(logits.float(), x.float()).double() - expected).abs().max()
        torchs = (Bernoulli(logits=logits.float()).log_prob(x.float()).sum(-1).double() - expected).abs().max()
        assert ours <= 3 * torchs + 1e-4, (ours, torchs)


def test_product_rows_divide_the_pixels_and_keep_each_product_below_2_to_the_64():
    for n in (1, 7, 784, 3072, 12288, 2 * 3 * 5 * 7 * 11, 4099):
        rows = product_rows(n)
        assert n % rows == 0 and 1 <= rows <= 64
    assert product_rows(784) == 49 and product_rows(3072) == 64  # columns of 16 and 48: whole AVX2 vectors


def test_bernoulli_pixels_with_gradients_is_torchs_log_prob_and_gradient():
    g = torch.Generator().manual_seed(0)
    logits = (torch.randn(2, 3, 1, 4, 4, generator=g, dtype=torch.float64) * 5).requires_grad_()  # (S, B, C, H, W)
    x = torch.rand(3, 1, 4, 4, generator=g, dtype=torch.float64).round()
    log_p = BernoulliPixels(logits).log_prob(x)  # (S, B)
    (grad,) = torch.autograd.grad(log_p.sum(), logits)
    torch.testing.assert_close(grad, x - torch.sigmoid(logits.detach()))  # d/dl [x l - softplus(l)]
    with torch.no_grad():
        torch.testing.assert_close(BernoulliPixels(logits).log_prob(x), log_p.detach())
    torch.testing.assert_close(log_p, Independent(Bernoulli(logits=logits), 3).log_prob(x))
