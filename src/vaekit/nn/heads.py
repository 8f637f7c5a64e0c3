"""The encoder's output head: the parameters of q(z|x) = N(mu, diag(sigma^2))."""

from __future__ import annotations

import torch
from torch import nn

from vaekit.nn.layers import at_least_float32


class GaussianHead(nn.Module):
    """Two linear heads, mu and log sigma^2, computed as one matrix product for speed."""

    def __init__(self, in_features: int, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.linear = nn.Linear(in_features, 2 * latent_dim)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = at_least_float32(self.linear(h)).chunk(2, dim=-1)  # (B, 2D) -> 2 x (B, D)
        return mu, logvar
