"""The variational autoencoder: q(z|x) = N(mu(x), diag(sigma^2(x))), a prior p(z), p(x|z) from a likelihood head.

Kingma & Welling 2014, "Auto-Encoding Variational Bayes". The prior is N(0, I) or a VampPrior
(vaekit.models.priors). The model returns distributions; objectives in vaekit.objectives turn them into losses.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Distribution

from vaekit.distributions import DiagonalGaussian
from vaekit.errors import VaekitError
from vaekit.models.base import LatentModel
from vaekit.models.priors import StandardNormalPrior
from vaekit.nn.heads import GaussianHead


class VAE(LatentModel):
    """Encoder body, Gaussian posterior head, decoder body, likelihood head and a prior module.

    Args:
        encoder: x (B, C, H, W) -> features (B, F), with an `out_features` attribute.
        decoder: z (..., D + extra_features) -> distribution parameters (..., C, H, W).
        likelihood_head: parameters -> p(x|z) (vaekit.nn.likelihoods).
        latent_dim: D.
        data_shape: (C, H, W) of the training images.
        latent_prior: a module returning p(z) (vaekit.models.priors); default N(0, I).
        extra_features: features appended to the encoder's before the posterior head (the conditional VAE's labels).
        input_layer: x -> what the encoder body reads (a table's one-hot categories, vaekit.nn.columns.TableInput);
            default: x itself. A VampPrior's pseudo-inputs live in its output space.
        bn_gamma: > 0 batch-normalizes the posterior means with this fixed scale (BN-VAE, Zhu et al. 2020;
            vaekit.nn.heads.GaussianHead).

    The inference network (input layer, encoder, posterior head) and the generative network (decoder, likelihood
    head) are named by `inference_parameters` and `generative_modules`, for training procedures that treat them
    apart (aggressive inference updates, He et al. 2019; re-initializing the decoder, Li et al. 2019).
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        likelihood_head: nn.Module,
        latent_dim: int,
        data_shape: tuple[int, int, int],
        latent_prior: nn.Module | None = None,
        extra_features: int = 0,
        input_layer: nn.Module | None = None,
        bn_gamma: float = 0.0,
    ) -> None:
        super().__init__()
        self.input_layer = input_layer if input_layer is not None else nn.Identity()
        self.encoder = encoder
        self.posterior_head = GaussianHead(encoder.out_features + extra_features, latent_dim, bn_gamma)
        self.decoder = decoder
        self.likelihood_head = likelihood_head
        self.latent_prior = latent_prior if latent_prior is not None else StandardNormalPrior(latent_dim)
        self.latent_dim = latent_dim
        self.data_shape = tuple(data_shape)

    @property
    def standard_normal_prior(self) -> bool:
        return isinstance(self.latent_prior, StandardNormalPrior)

    def posterior(self, x: torch.Tensor) -> DiagonalGaussian:
        """q(z|x) for x (B, *event_shape); event shape (D,)."""
        return self.posterior_of_inputs(self.input_layer(x))

    def posterior_of_inputs(self, u: torch.Tensor) -> DiagonalGaussian:
        """q(z|x) from the encoder body's input u = input_layer(x)."""
        mu, logvar = self.posterior_head(self.encoder(u))  # 2 x (B, D)
        return DiagonalGaussian(mu, logvar)

    def prior(self) -> Distribution:
        """p(z): N(0, I), or the VampPrior's mixture of this model's posteriors at its pseudo-inputs."""
        return self.latent_prior(self.posterior_of_inputs)

    def likelihood(self, z: torch.Tensor) -> Distribution:
        """p(x|z) for z (..., D): batch shape (...), event shape (C, H, W).

        For z (S, B, D) and x (B, C, H, W), log_prob(x) broadcasts to (S, B) without copying x.
        """
        return self.likelihood_head(self.decoder(z))

    def kl(self, qz_x: DiagonalGaussian, z: torch.Tensor, **cond) -> torch.Tensor:
        """KL(q(z|x) || p(z)), (B,): closed form under N(0, I); the VampPrior's by Monte Carlo at the draws z."""
        if self.standard_normal_prior:
            return self.kl_per_dim(qz_x).sum(-1)
        return super().kl(qz_x, z)

    def kl_per_dim(self, qz_x: DiagonalGaussian) -> torch.Tensor:
        """KL(q(z|x) || N(0, I)) per latent dimension, closed form; shape (B, D)."""
        if not self.standard_normal_prior:
            raise VaekitError(
                "the KL per latent dimension has a closed form under the N(0, I) prior only; this model's "
                f"{type(self.latent_prior).__name__} does not split over dimensions."
            )
        return qz_x.kl_to_standard_normal()

    def inference_parameters(self) -> list[nn.Parameter]:
        """The parameters of q(z|x): input layer, encoder body and posterior head."""
        return [p for m in (self.input_layer, self.encoder, self.posterior_head) for p in m.parameters()]

    def generative_modules(self) -> list[nn.Module]:
        """The modules of p(x|z): decoder body and likelihood head (the prior p(z) is not among them)."""
        return [self.decoder, self.likelihood_head]
