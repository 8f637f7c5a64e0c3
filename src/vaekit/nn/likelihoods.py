"""Likelihood heads: decoder output (B, C', H, W) -> p(x|z), a distribution whose log_prob(x) has shape (B,).

Every log_prob includes its full normalizing constant, so values are log-likelihoods in nats. Each head says
how many channels it needs from the decoder (`parameter_shape`), and its registry entry says what its log_prob
measures (`support`): a probability of binary pixels, a probability of the data's `levels` pixel values, or a
density on the real line (docs/likelihood.md; vaekit.evaluate.likelihood.PixelMeasure turns each into a unit).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.distributions import Distribution, Independent, Normal

from vaekit.config import LikelihoodConfig
from vaekit.discretized import DiscretizedGaussian, DiscretizedLogisticMixture
from vaekit.distributions import BernoulliPixels
from vaekit.errors import ConfigError
from vaekit.nn.columns import build_columns
from vaekit.nn.layers import at_least_float32
from vaekit.nn.tokens import build_tokens
from vaekit.registry import LIKELIHOODS
from vaekit.spec import DataSpec, as_spec

Shape = tuple[int, int, int]
# what a likelihood's log_prob is a probability (or density) of; "columns": each table column's own; "tokens": a
# probability of a whole token sequence (its length included)
SUPPORTS = ("binary", "levels", "real", "columns", "tokens")


@dataclass(frozen=True)
class LikelihoodEntry:
    """A likelihood type: its builder (config, data spec) -> head, its support and the kinds of data it takes.

    support: "binary" (a probability of pixels in {0, 1}), "levels" (a probability of the data's L values
    v / (L - 1)), "real" (a density, which needs dequantization on integer-valued data) or "columns" (each table
    column's own: densities of real columns, probabilities of the others).
    """

    build: Callable[[LikelihoodConfig, DataSpec], nn.Module]
    support: str
    kinds: tuple[str, ...] = ("image",)

    def __call__(self, cfg: LikelihoodConfig, spec: DataSpec | tuple[int, ...]) -> nn.Module:
        return self.build(cfg, as_spec(spec))


def build_likelihood(cfg: LikelihoodConfig, spec: DataSpec | tuple[int, ...]) -> nn.Module:
    """The head of model.likelihood for data `spec` (or images of a shape (C, H, W)); its `parameter_shape` is the
    decoder's output shape."""
    spec = as_spec(spec)
    entry = LIKELIHOODS.get(cfg.type)
    if spec.kind not in entry.kinds:
        takes = [n for n in LIKELIHOODS.names() if spec.kind in LIKELIHOODS.get(n).kinds]
        raise ConfigError(
            f"model.likelihood.type={cfg.type} models {' or '.join(entry.kinds)} data, and this data is a "
            f"{spec.kind}. For a {spec.kind} use model.likelihood.type={' or '.join(takes)}."
        )
    return entry(cfg, spec)


def likelihood_support(likelihood_type: str) -> str:
    """What log_prob of model.likelihood.type `likelihood_type` measures: "binary", "levels" or "real"."""
    return LIKELIHOODS.get(likelihood_type).support


class BernoulliLikelihood(nn.Module):
    """Independent Bernoulli pixels with logits from the decoder.

    log_prob(x) = sum x * logit - softplus(logit), computed stably; it also accepts intensities in [0, 1] as
    targets (then it is the negative binary cross-entropy of the PyTorch VAE example, not a normalized
    density of continuous data).
    """

    def __init__(self, shape: Shape) -> None:
        super().__init__()
        self.parameter_shape = tuple(shape)

    def forward(self, logits: torch.Tensor) -> Distribution:
        return BernoulliPixels(at_least_float32(logits), len(self.parameter_shape))


class GaussianParameters(nn.Module):
    """The mean and sigma of Gaussian pixels: sigma fixed, learned (one shared or one per pixel), or given by the
    decoder (learn_sigma=decoder: log sigma = log(config sigma) + a second decoder output, a function of z)."""

    def __init__(self, shape: Shape, sigma: float, learn_sigma: str) -> None:
        super().__init__()
        sizes = {"none": (), "shared": (), "per_pixel": tuple(shape), "decoder": ()}
        log_sigma = torch.full(sizes[learn_sigma], math.log(sigma))
        if learn_sigma in ("none", "decoder"):
            self.register_buffer("log_sigma", log_sigma)
        else:
            self.log_sigma = nn.Parameter(log_sigma)
        self.sigma_from_decoder = learn_sigma == "decoder"
        c, h, w = shape
        self.parameter_shape = (2 * c if self.sigma_from_decoder else c, h, w)

    def mean_and_scale(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """params (..., C', H, W) -> mean, scale, each (..., C, H, W)."""
        params = at_least_float32(params)
        if self.sigma_from_decoder:
            mean, log_sigma = params.chunk(2, dim=-3)  # (..., 2C, H, W) -> 2 x (..., C, H, W)
            return mean, (self.log_sigma.to(params.dtype) + log_sigma).exp()
        return params, self.log_sigma.exp().to(params.dtype).expand_as(params)


class GaussianLikelihood(GaussianParameters):
    """Independent Gaussian pixels N(mean, sigma^2): a density, so on integer-valued data it is trained and
    evaluated on dequantized pixels (vaekit.discretized.dequantize)."""

    def forward(self, params: torch.Tensor) -> Distribution:
        mean, scale = self.mean_and_scale(params)
        return Independent(Normal(mean, scale, validate_args=False), len(self.parameter_shape), validate_args=False)


class DiscretizedGaussianLikelihood(GaussianParameters):
    """The Gaussian above, discretized to the data's `levels` values (edge bins to -inf and +inf)."""

    def __init__(self, shape: Shape, sigma: float, learn_sigma: str, levels: int) -> None:
        super().__init__(shape, sigma, learn_sigma)
        self.levels = levels

    def forward(self, params: torch.Tensor) -> Distribution:
        mean, scale = self.mean_and_scale(params)
        return DiscretizedGaussian(mean, scale, self.levels)


class DiscretizedLogisticLikelihood(nn.Module):
    """A mixture of K discretized logistics per pixel and channel (PixelCNN++, channels independent given z).

    The decoder gives 3K channels per image channel: K mixture logits, K means (offset by 1/2, the middle of the
    [0, 1] pixel range, so an untrained decoder starts there) and K log-scales.
    """

    def __init__(self, shape: Shape, components: int, levels: int) -> None:
        super().__init__()
        c, h, w = shape
        self.components, self.levels = components, levels
        self.parameter_shape = (3 * components * c, h, w)

    def forward(self, params: torch.Tensor) -> Distribution:
        params = at_least_float32(params)
        k, c = self.components, params.shape[-3] // (3 * self.components)
        parts = params.unflatten(-3, (3, k, c)).movedim(-4, -1)  # (..., 3, K, C, H, W) -> (..., 3, C, H, W, K)
        logits, means, log_scales = parts.unbind(-5)  # 3 x (..., C, H, W, K)
        return DiscretizedLogisticMixture(logits, means + 0.5, log_scales, self.levels)


def _levels(cfg: LikelihoodConfig) -> int:
    if cfg.levels < 2:
        raise ConfigError(
            f"model.likelihood.type={cfg.type} is a probability over the values a pixel takes, but the data's number "
            f"of values is unknown (model.likelihood.levels={cfg.levels}: continuous, e.g. float pixels). Train on "
            "integer-valued images (8-bit sources, uint8 arrays, image folders), set model.likelihood.levels if the "
            "floats are v / (levels - 1), or use model.likelihood.type=gaussian for continuous data."
        )
    return cfg.levels


def _build_bernoulli(cfg: LikelihoodConfig, spec: DataSpec) -> nn.Module:
    return BernoulliLikelihood(spec.event_shape)


def _build_gaussian(cfg: LikelihoodConfig, spec: DataSpec) -> nn.Module:
    return GaussianLikelihood(spec.event_shape, cfg.sigma, cfg.learn_sigma)


def _build_discretized_gaussian(cfg: LikelihoodConfig, spec: DataSpec) -> nn.Module:
    return DiscretizedGaussianLikelihood(spec.event_shape, cfg.sigma, cfg.learn_sigma, _levels(cfg))


def _build_discretized_logistic(cfg: LikelihoodConfig, spec: DataSpec) -> nn.Module:
    return DiscretizedLogisticLikelihood(spec.event_shape, cfg.components, _levels(cfg))


# Each entry's config schema (its keys and their rules) is registered under the same name in vaekit.config.
LIKELIHOODS.register("bernoulli")(LikelihoodEntry(_build_bernoulli, "binary"))
LIKELIHOODS.register("gaussian")(LikelihoodEntry(_build_gaussian, "real"))
LIKELIHOODS.register("discretized_gaussian")(LikelihoodEntry(_build_discretized_gaussian, "levels"))
LIKELIHOODS.register("discretized_logistic")(LikelihoodEntry(_build_discretized_logistic, "levels"))
LIKELIHOODS.register("columns")(LikelihoodEntry(build_columns, "columns", ("table",)))
LIKELIHOODS.register("tokens")(LikelihoodEntry(build_tokens, "tokens", ("sequence",)))
