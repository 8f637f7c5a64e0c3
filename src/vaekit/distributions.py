"""Distributions the models return, built on torch.distributions, with explicit random generators."""

from __future__ import annotations

import math

import torch
from torch.distributions import Bernoulli, Distribution, Independent, Normal, register_kl


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


class NoisyInTraining:
    """A distribution whose log_prob draws noise in training (word dropout, Bowman et al. 2016) from the generator
    it is given: `log_prob(x, generator=g)`. Objectives pass theirs through `log_prob`, so a resumed run draws the
    same noise."""


def log_prob(px: Distribution, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """px.log_prob(x), with `generator` for a distribution that draws training noise (NoisyInTraining)."""
    return px.log_prob(x, generator=generator) if isinstance(px, NoisyInTraining) else px.log_prob(x)


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


class BernoulliPixels(Independent):
    """Independent Bernoulli pixels with logits (..., C, H, W); log_prob of x (..., C, H, W) has shape (...,).

    log p(x) = sum_j x_j l_j - softplus(l_j), in nats; x may also be intensities in [0, 1] (then it is the negative
    binary cross-entropy, not a likelihood). With gradients it is torch's Bernoulli.log_prob; without (evaluation,
    where the k = 5000 importance-weighted estimate spends most of its time here besides the decoder) it is
    `bernoulli_log_prob`, which takes one logarithm per column of products of pixels' factors, not one per pixel.
    """

    def __init__(self, logits: torch.Tensor, event_dims: int = 3) -> None:
        super().__init__(Bernoulli(logits=logits, validate_args=False), event_dims, validate_args=False)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        logits = self.base_dist.logits
        if torch.is_grad_enabled() and logits.requires_grad:
            return super().log_prob(value)
        n = self.reinterpreted_batch_ndims
        return bernoulli_log_prob(logits.flatten(-n), value.flatten(-n))


def bernoulli_log_prob(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """sum_j x_j l_j - softplus(l_j) over the last dimension: logits (..., N), x broadcastable to it -> (...,).

    softplus(l) = max(l, 0) + log(1 + exp(-|l|)), and the logs are taken of products: the N factors
    1 + exp(-|l_j|), each in (1, 2], are multiplied down the G rows of an (G, N / G) view (`product_rows`: G <= 64,
    so a product stays below 2^64), one log per column instead of one per pixel. The products' rounding costs
    about 1e-5 nats on a 784-pixel image, less than the float32 sum of its 784 terms does.
    """
    n = logits.shape[-1]
    rows = product_rows(n)
    linear = (logits * x).sum(-1) - logits.clamp(min=0).sum(-1)  # (...,)
    factors = logits.abs().neg_().exp_().add_(1.0)  # (..., N), each in (1, 2]
    products = factors.unflatten(-1, (rows, n // rows)).prod(-2)  # (..., N / G), each below 2^G
    return linear - products.log_().sum(-1)


def product_rows(n: int, most: int = 64) -> int:
    """G, the number of factors per product in bernoulli_log_prob: the largest divisor of n up to `most` whose
    columns n / G are a multiple of 8 (whole vector registers of float32 on AVX2), else the largest divisor."""
    divisors = [g for g in range(min(n, most), 0, -1) if n % g == 0]
    return next((g for g in divisors if (n // g) % 8 == 0), divisors[0])
