"""A linear-Gaussian VAE whose log p(x) and exact posterior are known in closed form.

p(z) = N(0, I), p(x|z) = N(W z + b, s^2 I)  =>  p(x) = N(b, W W^T + s^2 I), and
q*(z|x) = N(M^-1 W^T (x - b) / s^2, M^-1) with M = I + W^T W / s^2. W has orthogonal columns so that M is
diagonal and q* is in the model's family of diagonal Gaussians.
"""

import math
from dataclasses import dataclass

import torch
from torch.distributions import MultivariateNormal

from vaekit.config import ModelConfig, load_config
from vaekit.models import build_model
from vaekit.spec import Column, DataSpec

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


# A factor-analysis table: rows x = W z + e in standardized units, z ~ N(0, I_K), e ~ N(0, diag(psi)); in the table's
# own units v = mean + std * x. Its marginal is N(0, W W^T + Psi) and its exact posterior has covariance
# (I + W^T Psi^-1 W)^-1 and mean that times W^T Psi^-1 x.
FA_MEANS = (1.0, -2.0, 0.5, 3.0)
FA_STDS = (2.0, 0.5, 1.5, 0.3)
FA_W = ((1.0, 0.5), (-0.3, 0.8), (0.6, -0.9), (0.2, 0.4))  # (D, K)
FA_PSI = (0.3, 0.5, 0.2, 0.4)


def factor_analysis_vae(log_var: torch.Tensor | None = None, missing: bool = False):
    """A vaekit table VAE whose decoder is the factor-analysis model above (a linear decoder, learned per-column
    sigma set to sqrt(psi)) and whose encoder gives the exact posterior mean of a complete row with log-variances
    `log_var` (K,) (default: twice the exact posterior variances: good but inexact); with `missing`, the spec models
    missing cells (the encoder's mask inputs get weight 0).

    Returns (model in float64, W (D, K), psi (D,), the exact posterior covariance of a complete row (K, K))."""
    w = torch.tensor(FA_W, dtype=torch.float64)
    psi = torch.tensor(FA_PSI, dtype=torch.float64)
    d, k = w.shape
    columns = tuple(Column(f"x{j}", "real", mean=FA_MEANS[j], std=FA_STDS[j]) for j in range(d))
    spec = DataSpec.table(columns, preprocessing={"missing": "model"} if missing else {})
    cfg = load_config(
        overrides=[
            f"model.latent_dim={k}",
            "model.network.hidden=[]",
            "model.likelihood.type=columns",
            "model.likelihood.learn_sigma=per_column",
        ]
    ).model
    model = build_model(cfg, spec).double().eval()
    sigma = torch.linalg.inv(torch.eye(k, dtype=torch.float64) + w.T @ torch.diag(1 / psi) @ w)
    with torch.no_grad():
        decoder = model.decoder.body[-1]
        decoder.weight.copy_(w)
        decoder.bias.zero_()
        model.likelihood_head.log_sigma.copy_(0.5 * psi.log())
        head = model.posterior_head.linear  # (2K, D) or (2K, 2D): mu and log variance from x (and the mask)
        head.weight.zero_()
        head.weight[:k, :d] = sigma @ w.T @ torch.diag(1 / psi)
        head.bias.zero_()
        head.bias[k:] = (2 * sigma.diagonal()).log() if log_var is None else log_var
    return model, w, psi, sigma


@dataclass
class FactorAnalysisTable:
    """The factor-analysis VAE above with 6 rows x drawn from its model, in the model's (standardized) numbers."""

    model: torch.nn.Module
    x: torch.Tensor  # (6, 4) standardized
    w: torch.Tensor  # (4, 2)
    psi: torch.Tensor  # (4,) noise variances, standardized units
    sigma: torch.Tensor  # (2, 2) the exact posterior covariance
    means: torch.Tensor  # (4,) the columns' m
    stds: torch.Tensor  # (4,) the columns' s

    def exact_log_px(self) -> torch.Tensor:
        """log p(v) (6,) of the rows in the table's units: N(v; m, S (W W^T + Psi) S)."""
        cov = torch.diag(self.stds) @ (self.w @ self.w.T + torch.diag(self.psi)) @ torch.diag(self.stds)
        return MultivariateNormal(self.means, cov).log_prob(self.means + self.stds * self.x)

    def posterior_mean(self) -> torch.Tensor:
        """E[z|x] (6, 2) of the exact posterior."""
        return self.x @ (self.sigma @ self.w.T @ torch.diag(1 / self.psi)).T


def factor_analysis_table() -> FactorAnalysisTable:
    torch.manual_seed(0)
    model, w, psi, sigma = factor_analysis_vae()
    d, k = w.shape
    x = (w @ torch.randn(k, 6, dtype=torch.float64) + psi.sqrt()[:, None] * torch.randn(d, 6, dtype=torch.float64)).T
    means, stds = torch.tensor(FA_MEANS, dtype=torch.float64), torch.tensor(FA_STDS, dtype=torch.float64)
    return FactorAnalysisTable(model, x, w, psi, sigma, means, stds)
