"""The variational autoencoder: q(z|x) = N(mu(x), diag(sigma^2(x))), p(z) = N(0, I), p(x|z) from a head.

Kingma & Welling 2014, "Auto-Encoding Variational Bayes". The model returns distributions; objectives in
vaekit.objectives turn them into losses.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Distribution

from vaekit.distributions import DiagonalGaussian, standard_normal
from vaekit.nn.heads import GaussianHead


class VAE(nn.Module):
    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        likelihood_head: nn.Module,
        latent_dim: int,
        data_shape: tuple[int, int, int],
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.posterior_head = GaussianHead(encoder.out_features, latent_dim)
        self.decoder = decoder
        self.likelihood_head = likelihood_head
        self.latent_dim = latent_dim
        self.data_shape = tuple(data_shape)

    def posterior(self, x: torch.Tensor) -> DiagonalGaussian:
        """q(z|x) for x (B, C, H, W); event shape (D,)."""
        mu, logvar = self.posterior_head(self.encoder(x))  # 2 x (B, D)
        return DiagonalGaussian(mu, logvar)

    def prior(self) -> DiagonalGaussian:
        """p(z) = N(0, I)."""
        ref = self.posterior_head.linear.weight
        return standard_normal(self.latent_dim, device=ref.device, dtype=ref.dtype)

    def likelihood(self, z: torch.Tensor) -> Distribution:
        """p(x|z) for z (..., D): batch shape (...), event shape (C, H, W).

        For z (S, B, D) and x (B, C, H, W), log_prob(x) broadcasts to (S, B) without copying x.
        """
        return self.likelihood_head(self.decoder(z))

    def kl_per_dim(self, qz_x: DiagonalGaussian) -> torch.Tensor:
        """KL(q(z|x) || p(z)) per latent dimension, closed form; shape (B, D)."""
        return qz_x.kl_to_standard_normal()

    # Uses: generation, features, reconstruction. Each random draw comes from the given generator.

    @torch.no_grad()
    def sample(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Means of p(x|z) for z ~ p(z): (num, C, H, W)."""
        z = self.prior().sample((num,), generator=generator)  # (num, D)
        return self.decode(z)

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Mean of p(x|z): (N, C, H, W)."""
        return self.likelihood(z).mean

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Posterior means E_q[z] (the features): (B, D)."""
        return self.posterior(x).mean

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Mean of p(x|z) at z = posterior mean, or at a posterior sample when a generator is given."""
        qz_x = self.posterior(x)
        z = qz_x.mean if generator is None else qz_x.sample(generator=generator)
        return self.decode(z)
