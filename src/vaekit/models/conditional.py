"""The conditional VAE (Sohn, Lee & Yan 2015, "Learning Structured Output Representation using Deep Conditional
Generative Models"): q(z|x, y), p(z) = N(0, I), p(x|z, y), with y a class label.

The label enters as a one-hot vector appended to the encoder's features (before the posterior head) and to z
(before the decoder), so any encoder and decoder body serves. `sample(n, y=labels)` draws images of those
classes; the importance-weighted estimate of a CVAE is of log p(x|y).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Distribution

from vaekit.distributions import DiagonalGaussian
from vaekit.errors import DataError
from vaekit.models.vae import VAE


class ConditionalVAE(VAE):
    """A VAE whose posterior and likelihood also take labels y (B,) int64 in 0..num_classes-1.

    The decoder body must take z (..., latent_dim + num_classes).
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        likelihood_head: nn.Module,
        latent_dim: int,
        data_shape: tuple[int, ...],
        num_classes: int,
        input_layer: nn.Module | None = None,
        bn_gamma: float = 0.0,
    ) -> None:
        super().__init__(
            encoder,
            decoder,
            likelihood_head,
            latent_dim,
            data_shape,
            extra_features=num_classes,
            input_layer=input_layer,
            bn_gamma=bn_gamma,
        )
        self.num_classes = num_classes

    def one_hot(self, y: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Labels (B,) -> (B, num_classes) in the dtype and device of `like`, after checking their range."""
        if y.dtype not in (torch.int64, torch.int32) or y.ndim != 1:
            raise DataError(f"labels must be a 1-D integer tensor, got {y.dtype} of shape {tuple(y.shape)}.")
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= self.num_classes):
            raise DataError(
                f"labels must lie in 0..{self.num_classes - 1} (model.num_classes={self.num_classes}), got "
                f"{int(y.min())}..{int(y.max())}."
            )
        return F.one_hot(y.to(like.device, torch.int64), self.num_classes).to(like.dtype)

    def posterior(self, x: torch.Tensor, y: torch.Tensor) -> DiagonalGaussian:
        """q(z|x, y) for x (B, C, H, W) and labels y (B,); event shape (D,)."""
        h = self.encoder(self.input_layer(x))  # (B, F)
        mu, logvar = self.posterior_head(torch.cat([h, self.one_hot(y, h)], dim=-1))  # 2 x (B, D)
        return DiagonalGaussian(mu, logvar)

    def prior(self, y: torch.Tensor | None = None) -> Distribution:
        """p(z|y) = p(z) = N(0, I): the label's information is in the decoder."""
        return self.latent_prior()

    def likelihood(self, z: torch.Tensor, y: torch.Tensor) -> Distribution:
        """p(x|z, y) for z (..., B, D) and y (B,): batch shape (..., B)."""
        y1 = self.one_hot(y, z).expand(*z.shape[:-1], self.num_classes)  # (..., B, K)
        return self.likelihood_head(self.decoder(torch.cat([z, y1], dim=-1)))
