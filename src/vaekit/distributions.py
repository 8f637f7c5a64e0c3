"""Distributions the models return, built on torch.distributions, with explicit random generators."""

from __future__ import annotations

import math

import torch
from torch.distributions import Independent, Normal


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
