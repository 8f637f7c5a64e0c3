"""Distributions the models return, built on torch.distributions, with explicit random generators."""

from __future__ import annotations

import math

import torch
from torch.distributions import Distribution, Independent, Normal, register_kl


class DiagonalGaussian(Independent):
    """N(mu, diag(exp(logvar))) over the last dimension; log_prob of a (..., D) value has shape (...,).

    Unlike torch.distributions.Normal, `rsample` takes a `generator`, and the KL to N(0, I) is computed from
    log sigma^2 directly (no log of an exponential).
    """

    def __init__(self, mu: torch.Tensor, logvar: torch.Tensor) -> None:
        self.loc = mu
        self.logvar = logvar
        super().__init__(Normal(mu, torch.exp(0.5 * logvar), validate_args=False), 1, validate_args=False)

    def rsample(self, sample_shape: torch.Size | tuple = (), generator: torch.Generator | None = None) -> torch.Tensor:
        """z = mu + sigma * eps with eps ~ N(0, I): the reparameterization (Kingma & Welling 2014)."""
        shape = torch.Size(sample_shape) + self.loc.shape  # (S..., B, D)
        eps = torch.randn(shape, generator=generator, device=self.loc.device, dtype=self.loc.dtype)
        return self.loc + self.base_dist.scale * eps

    def sample(self, sample_shape: torch.Size | tuple = (), generator: torch.Generator | None = None) -> torch.Tensor:
        with torch.no_grad():
            return self.rsample(sample_shape, generator)

    def kl_to_standard_normal(self) -> torch.Tensor:
        """KL(q || N(0, I)) per dimension, 0.5 * (mu^2 + sigma^2 - log sigma^2 - 1); shape (B, D)."""
        return 0.5 * (self.loc.pow(2) + self.logvar.exp() - self.logvar - 1.0)


def standard_normal(latent_dim: int, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32):
    """The prior p(z) = N(0, I) as a DiagonalGaussian with event shape (D,)."""
    zeros = torch.zeros(latent_dim, device=device, dtype=dtype)
    return DiagonalGaussian(zeros, zeros)


LOG_2PI = math.log(2.0 * math.pi)


def gaussian_kl_per_dim(q: DiagonalGaussian, p: DiagonalGaussian) -> torch.Tensor:
    """KL(q || p) per dimension between diagonal Gaussians, from the log-variances; shape broadcast(q, p) (..., D).

    0.5 * (logvar_p - logvar_q + (sigma_q^2 + (mu_q - mu_p)^2) / sigma_p^2 - 1).
    """
    return 0.5 * (p.logvar - q.logvar + (q.logvar.exp() + (q.loc - p.loc).pow(2)) * torch.exp(-p.logvar) - 1.0)


@register_kl(DiagonalGaussian, DiagonalGaussian)
def _kl_diagonal_gaussians(q: DiagonalGaussian, p: DiagonalGaussian) -> torch.Tensor:
    return gaussian_kl_per_dim(q, p).sum(-1)


class GaussianMixture(Distribution):
    """(1/K) sum_k N(mu_k, diag(exp(logvar_k))) over the last dimension, with equal weights.

    means, logvars: (K, D). log_prob of a (..., D) value has shape (...,); `sample` takes a generator. There is no
    closed-form KL to or from a mixture, so models take its KL by Monte Carlo (the VampPrior, Tomczak & Welling 2018).
    """

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, means: torch.Tensor, logvars: torch.Tensor) -> None:
        self.components = DiagonalGaussian(means, logvars)  # batch shape (K,), event shape (D,)
        super().__init__(torch.Size(), means.shape[-1:], validate_args=False)

    @property
    def num_components(self) -> int:
        return self.components.loc.shape[0]

    @property
    def mean(self) -> torch.Tensor:
        return self.components.loc.mean(0)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """log (1/K) sum_k N(value; mu_k, sigma_k^2); value (..., D) -> (...,), with logsumexp over k."""
        comp = self.components
        inv_var = torch.exp(-comp.logvar)  # (K, D)
        # Expanded as a matrix product: sum_d (z_d - mu_kd)^2 / s_kd = z^2 . (1/s_k) - 2 z . (mu_k / s_k) + const_k,
        # which keeps memory at (..., K) instead of (..., K, D).
        const = (comp.loc.pow(2) * inv_var).sum(-1) + comp.logvar.sum(-1) + value.shape[-1] * LOG_2PI  # (K,)
        quad = value.pow(2) @ inv_var.T - 2 * value @ (comp.loc * inv_var).T  # (..., K)
        log_components = -0.5 * (quad + const)  # (..., K)
        return torch.logsumexp(log_components, -1) - math.log(self.num_components)

    def sample(self, sample_shape: torch.Size | tuple = (), generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw a component uniformly, then from it: (sample_shape..., D)."""
        with torch.no_grad():
            shape = torch.Size(sample_shape)
            loc = self.components.loc
            k = torch.randint(self.num_components, shape, generator=generator, device=loc.device)  # (S...)
            eps = torch.randn((*shape, loc.shape[-1]), generator=generator, device=loc.device, dtype=loc.dtype)
            return loc[k] + self.components.base_dist.scale[k] * eps
