"""The encoder's output head: the parameters of q(z|x) = N(mu, diag(sigma^2))."""

from __future__ import annotations

import torch
from torch import nn

from vaekit.nn.layers import at_least_float32


class GaussianHead(nn.Module):
    """Two linear heads, mu and log sigma^2, computed as one matrix product for speed.

    bn_gamma > 0: the means are batch-normalized with that fixed scale and a learned shift beta (BN-VAE, Zhu et al.
    2020, "A Batch Normalized Inference Network Keeps the KL Vanishing Away"). Over a training batch each dimension's
    mean of mu^2 is then gamma^2 + beta^2, so the batch's mean KL to N(0, I) is at least latent_dim * gamma^2 / 2:
    the posterior cannot collapse to the prior. Evaluation normalizes with the running statistics.
    """

    def __init__(self, in_features: int, latent_dim: int, bn_gamma: float = 0.0, momentum: float = 0.1) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.linear = nn.Linear(in_features, 2 * latent_dim)
        self.bn_gamma = bn_gamma
        if bn_gamma > 0:
            self.momentum = momentum
            self.mean_shift = nn.Parameter(torch.zeros(latent_dim))  # beta, learned; gamma stays fixed
            self.register_buffer("running_mean", torch.zeros(latent_dim))
            self.register_buffer("running_var", torch.ones(latent_dim))

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = at_least_float32(self.linear(h)).chunk(2, dim=-1)  # (B, 2D) -> 2 x (B, D)
        if self.bn_gamma > 0:
            mu = self.bn_gamma * self.normalize(mu) + self.mean_shift
        return mu, logvar

    def normalize(self, mu: torch.Tensor) -> torch.Tensor:
        """(mu - mean) / std over the batch (B, D) in training, by the running statistics otherwise.

        No eps is added to the variance: with one, the KL could still fall, as the encoder shrinks its raw means'
        spread towards eps (Adam takes full-size steps along that tiny gradient: measured, the KL alone is then
        minimised to 1e-6 within 300 steps). Without it the normalized means are exactly scale-invariant and the
        floor holds. A variance under 1e-12 (all the batch's means equal) is taken as 1e-12. A training batch of
        one example has no variance: it is normalized by the running statistics.
        """
        if self.training and mu.shape[0] > 1:
            mean, var = mu.mean(0), mu.var(0, unbiased=False)  # (D,) each
            with torch.no_grad():
                batch = mu.shape[0]
                self.running_mean.lerp_(mean.detach().to(self.running_mean.dtype), self.momentum)
                unbiased = var.detach() * batch / (batch - 1)
                self.running_var.lerp_(unbiased.to(self.running_var.dtype), self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        return (mu - mean) * torch.rsqrt(var.clamp(min=1e-12))
