"""The VQ-VAE: a map of discrete codes between a residual conv encoder and decoder, and a prior over code maps.

van den Oord, Vinyals & Kavukcuoglu 2017, "Neural Discrete Representation Learning". x (B, C, H, W) -> z_e(x)
(B, D, h, w) -> nearest codebook vectors z_q -> p(x|z_q) from a likelihood head, a distribution with its full
normalizing constant. The first stage (objective `vq`) trains under a uniform prior over codes; a gated PixelCNN
fitted afterwards to the codes of the training set (`vaekit train-prior`) becomes the prior p(c) that samples
come from. The model holds no loss. Its posterior is a point mass at the nearest codes, so it is not on the
Gaussian-latent contract of vaekit.models.base: its registry entry declares `codes` (encode_codes/decode_codes).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.distributions import Distribution

from vaekit.models.quantizer import Quantized, VectorQuantizer
from vaekit.nn.pixelcnn import GatedPixelCNN
from vaekit.nn.residual import code_grid


class VQVAE(nn.Module):
    """Encoder, vector quantizer, decoder and likelihood head; `code_prior` is attached after the second stage.

    Args:
        encoder: x (B, C, H, W) -> z_e (B, D, h, w), (h, w) = code_shape, e.g. a ResidualEncoder.
        quantizer: the codebook of K vectors of size D.
        decoder: z_q (B, D, h, w) -> distribution parameters (B, C, H, W).
        likelihood_head: parameters -> p(x|z_q) (vaekit.nn.likelihoods).
        data_shape: (C, H, W) of the training images.
    """

    def __init__(
        self,
        encoder: nn.Module,
        quantizer: VectorQuantizer,
        decoder: nn.Module,
        likelihood_head: nn.Module,
        data_shape: tuple[int, int, int],
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.quantizer = quantizer
        self.decoder = decoder
        self.likelihood_head = likelihood_head
        self.data_shape = tuple(data_shape)
        # Not part of model.safetensors: the prior is trained later and saved on its own (prior.safetensors).
        self.register_module("code_prior", None)

    @property
    def num_codes(self) -> int:
        return self.quantizer.num_codes

    @property
    def code_shape(self) -> tuple[int, int]:
        """(h, w) of the code map of one image: (ceil(H/4), ceil(W/4))."""
        _, height, width = self.data_shape
        return code_grid(height, width).map_size

    # The generative structure.

    def quantize(self, x: torch.Tensor) -> Quantized:
        """Encode x (B, C, H, W) and quantize z_e; in training mode this also updates the codebook statistics."""
        return self.quantizer(self.encoder(x))

    def likelihood(self, z_q: torch.Tensor) -> Distribution:
        """p(x|z_q) for quantized vectors z_q (B, D, h, w): batch shape (B,), event shape (C, H, W)."""
        return self.likelihood_head(self.decoder(z_q))

    def attach_prior(self, prior: GatedPixelCNN) -> None:
        """Use `prior` as p(c) for sampling and for the code NLL (the second stage, trained on this model's codes)."""
        if prior.num_codes != self.num_codes:
            raise ValueError(f"the prior models {prior.num_codes} codes but the codebook has {self.num_codes}")
        self.code_prior = prior

    @property
    def prior_name(self) -> str:
        """`pixelcnn` once a prior is attached, else `uniform` (the prior the first stage trains under)."""
        return "uniform" if self.code_prior is None else "pixelcnn"

    def code_log_prob(self, codes: torch.Tensor) -> torch.Tensor:
        """log p(c) in nats of code maps (B, h, w) under the PixelCNN prior, or the uniform one; shape (B,)."""
        if self.code_prior is not None:
            return self.code_prior.log_prob(codes)
        log_p = -codes[0].numel() * math.log(self.num_codes)  # (1/K) at each of the h*w positions
        return torch.full((codes.shape[0],), log_p, device=codes.device)

    # Uses: codes, reconstruction, generation. Each random draw comes from the given generator.

    @torch.no_grad()
    def encode_codes(self, x: torch.Tensor) -> torch.Tensor:
        """Code indices of x (B, C, H, W): (B, h, w) int64."""
        return self.quantizer.nearest_codes(self.encoder(x))

    @torch.no_grad()
    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """Mean of p(x|z_q) for code maps (N, h, w): (N, C, H, W)."""
        return self.likelihood(self.quantizer.lookup(codes)).mean

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Mean of p(x|z_q(x)); the encoding is deterministic, so `generator` is not used."""
        return self.decode_codes(self.encode_codes(x))

    @torch.no_grad()
    def sample(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Means of p(x|z_q) for code maps c ~ p(c): (num, C, H, W).

        p(c) is the attached PixelCNN (ancestral sampling), or uniform over codes before `vaekit train-prior`.
        """
        if self.code_prior is not None:
            codes = self.code_prior.sample(num, self.code_shape, generator=generator)  # (num, h, w)
        else:
            device = self.quantizer.codebook.device
            codes = torch.randint(self.num_codes, (num, *self.code_shape), generator=generator, device=device)
        return self.decode_codes(codes)
