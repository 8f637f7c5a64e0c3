"""Convolutional encoder and decoder bodies: stride-2 stages (4x4 kernels), then fully connected layers.

Each stage halves the height and width, so 28x28 with two stages gives 7x7, 32x32 gives 8x8 and 64x64 with
four stages gives 4x4 (the dSprites architecture of Higgins et al. 2017 is channels [32, 32, 64, 64],
hidden [256]). Sides that do not divide by 2**stages are padded up to the next multiple on the way in and
cropped back on the way out (vaekit.nn.strided): 105x105 with two stages runs at 108x108 and gives 27x27.
"""

from __future__ import annotations

import torch
from torch import nn

from vaekit.config import NetworkConfig
from vaekit.errors import ConfigError
from vaekit.nn.layers import activation, mlp
from vaekit.nn.strided import StridedGrid
from vaekit.registry import NETWORKS


class ConvEncoder(nn.Module):
    """x (B, C, H, W) -> features (B, hidden[-1])."""

    def __init__(self, shape: tuple[int, int, int], channels: list[int], hidden: list[int], act: str) -> None:
        super().__init__()
        self.grid = StridedGrid(shape[1], shape[2], len(channels))
        layers: list[nn.Module] = []
        for c_in, c_out in zip([shape[0], *channels[:-1]], channels, strict=True):
            layers += [nn.Conv2d(c_in, c_out, kernel_size=4, stride=2, padding=1), activation(act)]
        self.convs = nn.Sequential(*layers)
        h, w = self.grid.map_size
        self.fc = mlp([channels[-1] * h * w, *hidden], act, final_activation=True)
        self.out_features = hidden[-1] if hidden else channels[-1] * h * w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.grid.pad(x)  # (B, C, H', W'), sides a multiple of 2**stages
        return self.fc(self.convs(x).flatten(1))  # (B, C', h, w) -> (B, F)


class ConvDecoder(nn.Module):
    """z (..., D) -> per-pixel distribution parameters (..., C, H, W), mirroring ConvEncoder."""

    def __init__(
        self, shape: tuple[int, int, int], latent_dim: int, channels: list[int], hidden: list[int], act: str
    ) -> None:
        super().__init__()
        self.grid = StridedGrid(shape[1], shape[2], len(channels))
        self.map_shape = (channels[-1], *self.grid.map_size)
        c, h, w = self.map_shape
        self.fc = mlp([latent_dim, *reversed(hidden), c * h * w], act, final_activation=True)
        layers: list[nn.Module] = []
        outs = [*reversed(channels[:-1]), shape[0]]
        for i, (c_in, c_out) in enumerate(zip(reversed(channels), outs, strict=True)):
            layers.append(nn.ConvTranspose2d(c_in, c_out, kernel_size=4, stride=2, padding=1))
            if i < len(channels) - 1:
                layers.append(activation(act))
        self.deconvs = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        lead = z.shape[:-1]
        h = self.fc(z.flatten(0, -2)).view(-1, *self.map_shape)  # (N, C', h, w), N = prod(lead)
        out = self.grid.crop(self.deconvs(h))  # (N, C, H', W') -> (N, C, H, W)
        return out.reshape(*lead, *out.shape[1:])


@NETWORKS.register("conv")
def build_conv(cfg: NetworkConfig, shape: tuple[int, int, int], latent_dim: int) -> tuple[nn.Module, nn.Module]:
    if not cfg.channels:
        raise ConfigError(
            "model.network.channels must list at least one stage for a conv network (any image size works: "
            "sides are padded to a multiple of 2**stages); for no convolution use model.network.type=mlp."
        )
    return (
        ConvEncoder(shape, cfg.channels, cfg.hidden, cfg.activation),
        ConvDecoder(shape, latent_dim, cfg.channels, cfg.hidden, cfg.activation),
    )
