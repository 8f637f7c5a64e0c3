"""Priors over a Gaussian latent vector: N(0, I), and the VampPrior (a mixture of posteriors at learned inputs).

A prior module is called with the model's posterior map x -> q(z|x) and returns p(z) as a distribution, so the
VampPrior can evaluate the encoder at its pseudo-inputs; N(0, I) ignores it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from vaekit.config import LatentPriorConfig
from vaekit.distributions import DiagonalGaussian, GaussianMixture, standard_normal
from vaekit.registry import PRIORS

PosteriorMap = Callable[[torch.Tensor], DiagonalGaussian]  # encoder inputs (K, ...) -> q(z|x), batch shape (K,)


class StandardNormalPrior(nn.Module):
    """p(z) = N(0, I) over `latent_dim` dimensions; KL from a diagonal Gaussian has a per-dimension closed form."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        # A buffer only to carry the model's device and dtype; it is not saved (persistent=False).
        self.register_buffer("_ref", torch.zeros(()), persistent=False)

    def forward(self, posterior: PosteriorMap | None = None) -> DiagonalGaussian:
        return standard_normal(self.latent_dim, device=self._ref.device, dtype=self._ref.dtype)


class VampPrior(nn.Module):
    """p(z) = (1/K) sum_k q(z | u_k) at K learned pseudo-inputs u_k (Tomczak & Welling 2018, "VAE with a VampPrior").

    The pseudo-inputs are parameters of the encoder's input shape, for images clipped to [0, 1] by a hardtanh as in
    the authors' code (there they are a linear map of one-hot vectors followed by hardtanh, which is the same
    thing), and initialised near `mean` with spread `std` (0.05 and 0.01 for MNIST in the paper's code). For a
    table they live where the encoder reads its rows (standardized reals, one-hot categories), unclipped.
    """

    def __init__(
        self, input_shape: tuple[int, ...], components: int, mean: float, std: float, bounded: bool = True
    ) -> None:
        super().__init__()
        self.pseudo_inputs = nn.Parameter(torch.randn(components, *input_shape) * std + mean)  # (K, *input_shape)
        self.bounded = bounded

    def inputs(self) -> torch.Tensor:
        """The pseudo-inputs, (K, *input_shape): images in [0, 1]."""
        return nn.functional.hardtanh(self.pseudo_inputs, 0.0, 1.0) if self.bounded else self.pseudo_inputs

    def forward(self, posterior: PosteriorMap | None = None) -> GaussianMixture:
        q = posterior(self.inputs())  # batch shape (K,), event (D,)
        return GaussianMixture(q.loc, q.logvar)


@dataclass(frozen=True)
class PriorEntry:
    # (cfg, the encoder's input shape, latent dim, inputs bounded to [0, 1]) -> the prior
    build: Callable[[LatentPriorConfig, tuple[int, ...], int, bool], nn.Module]
    per_dim_kl: bool  # the KL from a diagonal Gaussian posterior splits over dimensions in closed form
    needs_posterior: bool  # the prior is a function of the encoder (and so of an unconditional posterior)


# Each entry's config schema is registered under the same name in vaekit.config (StandardNormalPriorConfig, ...).
PRIORS.register("standard_normal")(PriorEntry(lambda cfg, shape, dim, bounded: StandardNormalPrior(dim), True, False))
PRIORS.register("vamp")(
    PriorEntry(
        lambda cfg, shape, dim, bounded: VampPrior(
            shape, cfg.components, cfg.pseudo_inputs_mean, cfg.pseudo_inputs_std, bounded
        ),
        False,
        True,
    )
)


def build_prior(
    cfg: LatentPriorConfig, input_shape: tuple[int, ...], latent_dim: int, bounded: bool = True
) -> nn.Module:
    """p(z) of model.prior; a VampPrior's pseudo-inputs have `input_shape`, clipped to [0, 1] when `bounded`."""
    return PRIORS.get(cfg.type).build(cfg, input_shape, latent_dim, bounded)
