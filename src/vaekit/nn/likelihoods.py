"""Likelihood heads: decoder output (B, C, H, W) -> p(x|z), a distribution whose log_prob(x) has shape (B,).

Every log_prob includes its full normalizing constant, so values are log-likelihoods in nats.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.distributions import Bernoulli, Distribution, Independent, Normal

from vaekit.config import LikelihoodConfig
from vaekit.errors import ConfigError
from vaekit.nn.layers import at_least_float32
from vaekit.registry import LIKELIHOODS


class BernoulliLikelihood(nn.Module):
    """Independent Bernoulli pixels with logits from the decoder.

    log_prob(x) = sum x * logit - softplus(logit), computed stably; it also accepts intensities in [0, 1] as
    targets (then it is the negative binary cross-entropy of the PyTorch VAE example, not a normalized
    density of continuous data).
    """

    def forward(self, logits: torch.Tensor) -> Distribution:
        logits = at_least_float32(logits)
        return Independent(Bernoulli(logits=logits, validate_args=False), 3, validate_args=False)


class GaussianLikelihood(nn.Module):
    """Independent Gaussian pixels N(mean, sigma^2); sigma fixed, or learned (one shared or one per pixel)."""

    def __init__(self, shape: tuple[int, int, int], sigma: float, learn_sigma: str) -> None:
        super().__init__()
        sizes = {"none": (), "shared": (), "per_pixel": tuple(shape)}
        log_sigma = torch.full(sizes[learn_sigma], math.log(sigma))
        if learn_sigma == "none":
            self.register_buffer("log_sigma", log_sigma)
        else:
            self.log_sigma = nn.Parameter(log_sigma)

    def forward(self, mean: torch.Tensor) -> Distribution:
        mean = at_least_float32(mean)
        scale = self.log_sigma.exp().to(mean.dtype).expand_as(mean)
        return Independent(Normal(mean, scale, validate_args=False), 3, validate_args=False)


@LIKELIHOODS.register("bernoulli")
def build_bernoulli(cfg: LikelihoodConfig, shape: tuple[int, int, int]) -> nn.Module:
    if cfg.learn_sigma != "none":
        raise ConfigError("model.likelihood.learn_sigma applies to the gaussian likelihood only; remove it.")
    return BernoulliLikelihood()


@LIKELIHOODS.register("gaussian")
def build_gaussian(cfg: LikelihoodConfig, shape: tuple[int, int, int]) -> nn.Module:
    return GaussianLikelihood(shape, cfg.sigma, cfg.learn_sigma)
