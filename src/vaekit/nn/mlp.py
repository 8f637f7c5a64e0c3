"""Fully connected encoder and decoder bodies for images of any (C, H, W)."""

from __future__ import annotations

import math

import torch
from torch import nn

from vaekit.config import NetworkConfig
from vaekit.nn.layers import mlp
from vaekit.registry import NETWORKS


class MLPEncoder(nn.Module):
    """x (B, C, H, W) -> features (B, hidden[-1])."""

    def __init__(self, shape: tuple[int, int, int], hidden: list[int], act: str) -> None:
        super().__init__()
        self.body = mlp([math.prod(shape), *hidden], act, final_activation=True)
        self.out_features = hidden[-1] if hidden else math.prod(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x.flatten(1))  # (B, C*H*W) -> (B, F)


class MLPDecoder(nn.Module):
    """z (..., D) -> per-pixel distribution parameters (..., C, H, W), through the encoder's widths reversed."""

    def __init__(self, shape: tuple[int, int, int], latent_dim: int, hidden: list[int], act: str) -> None:
        super().__init__()
        self.shape = tuple(shape)
        self.body = mlp([latent_dim, *reversed(hidden), math.prod(shape)], act, final_activation=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z).view(*z.shape[:-1], *self.shape)  # (..., C*H*W) -> (..., C, H, W)


@NETWORKS.register("mlp")
def build_mlp(cfg: NetworkConfig, shape: tuple[int, int, int], latent_dim: int) -> tuple[nn.Module, nn.Module]:
    return MLPEncoder(shape, cfg.hidden, cfg.activation), MLPDecoder(shape, latent_dim, cfg.hidden, cfg.activation)
