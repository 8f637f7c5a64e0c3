"""The ELBO on a linear-Gaussian model, where log p(x) and the exact posterior are known in closed form.

p(z) = N(0, I), p(x|z) = N(W z + b, s^2 I)  =>  p(x) = N(b, W W^T + s^2 I), and
q*(z|x) = N(M^-1 W^T (x - b) / s^2, M^-1) with M = I + W^T W / s^2. W has orthogonal columns so that M is
diagonal and q* is in the model's family of diagonal Gaussians.
"""

import math

import torch
from torch.distributions import MultivariateNormal

from vaekit.config import ModelConfig
from vaekit.models import build_model
from vaekit.objectives import Elbo, elbo_terms

P, D, S = 6, 3, 0.7  # data dim, latent dim, decoder noise std


def linear_gaussian_vae(exact_posterior: bool):
    cfg = ModelConfig(latent_dim=D)
    cfg.network.hidden = []  # encoder body = flatten, decoder = one Linear: z -> W z + b
    cfg.likelihood.type = "gaussian"
    cfg.likelihood.sigma = S
    model = build_model(cfg, (1, 1, P), seed=0).double()
    g = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(P, D, generator=g, dtype=torch.float64))
    w = q * torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)  # (P, D), orthogonal columns
    b = torch.randn(P, generator=g, dtype=torch.float64)
    m_diag = 1 + (w * w).sum(0) / S**2  # diagonal of M
    with torch.no_grad():
        dec = model.decoder.body[0]
        dec.weight.copy_(w)
        dec.bias.copy_(b)
        head = model.posterior_head.linear  # (2D, P): rows [mu; logvar]
        a = (w / S**2 / m_diag).T  # (D, P): mu = A (x - b)
        head.weight.zero_()
        head.weight[:D] = a
        head.bias[:D] = -a @ b
        head.bias[D:] = -torch.log(m_diag)
        if not exact_posterior:
            head.bias[:D] += 0.4
            head.bias[D:] += 0.3
    marginal = MultivariateNormal(b, w @ w.T + S**2 * torch.eye(P, dtype=torch.float64))
    return model, marginal


def data(n=5):
    return torch.randn(n, 1, 1, P, generator=torch.Generator().manual_seed(9), dtype=torch.float64) * 2


def mc_elbo(model, x, samples=100_000):
    """ELBO per example and its Monte Carlo standard error."""
    g = torch.Generator().manual_seed(1)
    qz_x = model.posterior(x)
    z = qz_x.sample((samples,), generator=g)  # (S, B, D)
    log_px_z = model.likelihood(z.flatten(0, 1)).log_prob(x.repeat(samples, 1, 1, 1)).view(samples, -1)
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
