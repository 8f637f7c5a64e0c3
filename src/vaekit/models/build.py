"""Build a model from its config and the data shape, with seeded initial weights."""

from __future__ import annotations

import torch
from torch import nn

import vaekit.nn  # noqa: F401  (registers networks and likelihoods)
from vaekit.config import ModelConfig, PriorConfig
from vaekit.errors import ConfigError
from vaekit.models.quantizer import VectorQuantizer
from vaekit.models.vae import VAE
from vaekit.models.vqvae import VQVAE
from vaekit.nn.pixelcnn import GatedPixelCNN
from vaekit.nn.residual import DOWNSAMPLING, ResidualDecoder, ResidualEncoder
from vaekit.registry import LIKELIHOODS, MODELS, NETWORKS


@MODELS.register("vae")
def build_vae(cfg: ModelConfig, shape: tuple[int, int, int]) -> VAE:
    encoder, decoder = NETWORKS.get(cfg.network.type)(cfg.network, shape, cfg.latent_dim)
    head = LIKELIHOODS.get(cfg.likelihood.type)(cfg.likelihood, shape)
    return VAE(encoder, decoder, head, cfg.latent_dim, shape)


@MODELS.register("vqvae")
def build_vqvae(cfg: ModelConfig, shape: tuple[int, int, int]) -> VQVAE:
    channels, height, width = shape
    if height % DOWNSAMPLING or width % DOWNSAMPLING:
        raise ConfigError(
            f"model.type=vqvae halves the image sides twice and needs them divisible by {DOWNSAMPLING}, but the "
            f"images are {height}x{width}. Use 28x28 or 32x32 images, or model.type=vae."
        )
    vq = cfg.vq
    sizes = (vq.hidden_channels, vq.num_residual_blocks, vq.embedding_dim)
    quantizer = VectorQuantizer(vq.num_codes, vq.embedding_dim, ema=vq.ema, decay=vq.decay)
    head = LIKELIHOODS.get(cfg.likelihood.type)(cfg.likelihood, shape)
    return VQVAE(ResidualEncoder(channels, *sizes), quantizer, ResidualDecoder(channels, *sizes), head, shape)


def build_model(cfg: ModelConfig, shape: tuple[int, int, int], seed: int = 0) -> nn.Module:
    """The model named by cfg.type; its initial weights depend on `seed` only (the global RNG is untouched)."""
    builder = MODELS.get(cfg.type)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return builder(cfg, tuple(shape))


def build_code_prior(cfg: PriorConfig, num_codes: int, seed: int = 0) -> GatedPixelCNN:
    """The VQ-VAE's second stage, a gated PixelCNN over K = num_codes categories, seeded like build_model."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return GatedPixelCNN(num_codes, hidden_channels=cfg.hidden_channels, num_layers=cfg.num_layers)
