"""A linear-Gaussian VAE whose log p(x) and exact posterior are known in closed form.

p(z) = N(0, I), p(x|z) = N(W z + b, s^2 I)  =>  p(x) = N(b, W W^T + s^2 I), and
q*(z|x) = N(M^-1 W^T (x - b) / s^2, M^-1) with M = I + W^T W / s^2. W has orthogonal columns so that M is
diagonal and q* is in the model's family of diagonal Gaussians.
"""

import math

import torch
from torch.distributions import MultivariateNormal

from vaekit.config import ModelConfig
from vaekit.models import build_model

P, D, S = 6, 3, 0.7  # data dim, latent dim, decoder noise std


def linear_gaussian_vae(exact_posterior: bool):
    cfg = ModelConfig(latent_dim=D)
    cfg.network.hidden = []  # encoder body = flatten, decoder = one Linear: z -> W z + b
    cfg.likelihood.type = "gaussian"
    cfg.likelihood.sigma = S
    model = build_model(cfg, (1, 1, P), seed=0).double()
    model.likelihood_head.log_sigma.fill_(math.log(S))  # exact in float64, not a float32 rounding
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
