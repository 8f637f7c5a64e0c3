"""The language model (model.type=lm): the sentence VAE's recurrent decoder with no latent, on the same contract.

It is the baseline every sentence-VAE number is read against (Bowman et al. 2016; He et al. 2019, Table 2): its z
has zero dimensions, so q(z|x) = p(z) is a point, the KL is 0, every importance weight equals p(x) and the
importance-weighted estimate (any K) and the ELBO are both the exact log p(x). It trains, evaluates and reports
through the same code as the VAE.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Distribution

from vaekit.config import LmConfig
from vaekit.distributions import DiagonalGaussian
from vaekit.models.base import LatentModel
from vaekit.models.build import check_network
from vaekit.models.priors import StandardNormalPrior
from vaekit.nn.likelihoods import build_likelihood
from vaekit.registry import MODELS, NETWORKS, ModelEntry
from vaekit.spec import DataSpec


class LanguageModel(LatentModel):
    """p(x) = p(x | z) with z of size 0: the decoder (vaekit.nn.recurrent) started from the zero state."""

    def __init__(self, decoder: nn.Module, likelihood_head: nn.Module, data_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.decoder = decoder
        self.likelihood_head = likelihood_head
        self.latent_prior = StandardNormalPrior(0)
        self.latent_dim = 0
        self.data_shape = tuple(data_shape)

    def posterior(self, x: torch.Tensor) -> DiagonalGaussian:
        """q(z|x) over zero dimensions: batch shape (B,), event shape (0,)."""
        ref = self.latent_prior().loc  # (0,), the model's device and dtype
        empty = ref.new_zeros(x.shape[0], 0)
        return DiagonalGaussian(empty, empty)

    def prior(self) -> Distribution:
        return self.latent_prior()

    def likelihood(self, z: torch.Tensor) -> Distribution:
        """p(x) for z (..., 0): batch shape (...)."""
        return self.likelihood_head(self.decoder(z))

    def kl(self, qz_x: DiagonalGaussian, z: torch.Tensor, **cond) -> torch.Tensor:
        """0 for each example, (B,)."""
        return qz_x.loc.new_zeros(qz_x.loc.shape[0])


def build_lm(cfg: LmConfig, spec: DataSpec) -> LanguageModel:
    check_network(cfg, spec)
    head = build_likelihood(cfg.likelihood, spec)
    _, decoder = NETWORKS.get(cfg.network.type)(cfg.network, tuple(head.parameter_shape), 0)
    return LanguageModel(decoder, head, spec.event_shape)


MODELS.register("lm")(
    ModelEntry(
        build_lm,
        frozenset(),  # no latent vector to encode, decode or interpolate
        "likelihood",
        ("model.type=lm", "model.network.hidden=[16]", "model.network.embedding_dim=8"),
        kinds=("sequence",),
    )
)
