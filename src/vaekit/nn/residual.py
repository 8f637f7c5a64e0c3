"""Convolutional encoder and decoder with residual blocks, the networks of the VQ-VAE.

van den Oord, Vinyals & Kavukcuoglu 2017, "Neural Discrete Representation Learning", section 4.1: two
stride-2 convolutions (4x4 kernels) then residual blocks (ReLU, 3x3 conv, ReLU, 1x1 conv, skip); the decoder
mirrors this with transposed convolutions. Two stages turn 28x28 into a 7x7 map of D-vectors and 32x32 into
8x8; other sides are padded up to a multiple of 4 and the decoder's output cropped back (vaekit.nn.strided), so
27x27 gives 7x7 and 105x105 gives 27x27. The decoder returns per-pixel distribution parameters for a likelihood
head in vaekit.nn.likelihoods.
"""

from __future__ import annotations

import torch
from torch import nn

from vaekit.nn.strided import StridedGrid

STAGES = 2  # stride-2 convolutions in the encoder, transposed ones in the decoder


def code_grid(height: int, width: int) -> StridedGrid:
    """The sizes an image of sides (height, width) takes through the residual encoder: `.map_size` is (h, w)."""
    return StridedGrid(height, width, STAGES)


class ResidualBlock(nn.Module):
    """x + conv1x1(relu(conv3x3(relu(x)))); channels in = channels out."""

    def __init__(self, channels: int, residual_channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(channels, residual_channels, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(residual_channels, channels, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)  # (B, C, H, W)


def residual_stack(channels: int, residual_channels: int, num_blocks: int) -> nn.Sequential:
    """`num_blocks` residual blocks then a ReLU (each block's output is a pre-activation sum)."""
    return nn.Sequential(*(ResidualBlock(channels, residual_channels) for _ in range(num_blocks)), nn.ReLU())


class ResidualEncoder(nn.Module):
    """x (B, C, H, W) -> z_e (B, D, h, w), (h, w) = (ceil(H/4), ceil(W/4)).

    Args:
        image_size: (H, W) of the images.
        in_channels: C, the image channels.
        hidden_channels: channels of the residual stack (the first stride-2 stage has half as many).
        num_residual_blocks: residual blocks after the strided convolutions (2 in the paper).
        embedding_dim: D, the size of each output vector (the codebook's vector size).
        residual_channels: channels inside each residual block; `hidden_channels` when not given.
    """

    def __init__(
        self,
        image_size: tuple[int, int],
        in_channels: int,
        hidden_channels: int,
        num_residual_blocks: int,
        embedding_dim: int,
        residual_channels: int | None = None,
    ) -> None:
        super().__init__()
        self.grid = code_grid(*image_size)
        half = max(hidden_channels // 2, 1)
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, half, kernel_size=4, stride=2, padding=1),  # (B, h/2, H'/2, W'/2)
            nn.ReLU(),
            nn.Conv2d(half, hidden_channels, kernel_size=4, stride=2, padding=1),  # (B, h, H'/4, W'/4)
            nn.ReLU(),
            nn.Conv2d(hidden_channels, hidden_channels, kernel_size=3, padding=1),
            residual_stack(hidden_channels, residual_channels or hidden_channels, num_residual_blocks),
            nn.Conv2d(hidden_channels, embedding_dim, kernel_size=1),  # (B, D, H'/4, W'/4)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.grid.pad(x))  # pad: (B, C, H, W) -> (B, C, H', W'), sides a multiple of 4


class ResidualDecoder(nn.Module):
    """z_q (..., D, h, w) -> per-pixel distribution parameters (..., C, H, W), mirroring ResidualEncoder.

    Args:
        image_size: (H, W) of the images; (h, w) must be the encoder's map size for them.
        out_channels: C, the parameters per pixel the likelihood head takes (the image channels).
        hidden_channels, num_residual_blocks, embedding_dim, residual_channels: as for ResidualEncoder.
    """

    def __init__(
        self,
        image_size: tuple[int, int],
        out_channels: int,
        hidden_channels: int,
        num_residual_blocks: int,
        embedding_dim: int,
        residual_channels: int | None = None,
    ) -> None:
        super().__init__()
        self.grid = code_grid(*image_size)
        half = max(hidden_channels // 2, 1)
        self.net = nn.Sequential(
            nn.Conv2d(embedding_dim, hidden_channels, kernel_size=3, padding=1),  # (N, h, h', w')
            residual_stack(hidden_channels, residual_channels or hidden_channels, num_residual_blocks),
            nn.ConvTranspose2d(hidden_channels, half, kernel_size=4, stride=2, padding=1),  # (N, h/2, 2h', 2w')
            nn.ReLU(),
            nn.ConvTranspose2d(half, out_channels, kernel_size=4, stride=2, padding=1),  # (N, C, 4h', 4w')
        )

    def forward(self, z_q: torch.Tensor) -> torch.Tensor:
        lead = z_q.shape[:-3]
        out = self.net(z_q.reshape(-1, *z_q.shape[-3:]))  # (N, C, H', W'), N = prod(lead)
        out = self.grid.crop(out)  # (N, C, H, W)
        return out.reshape(*lead, *out.shape[1:])
