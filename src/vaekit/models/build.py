"""Build a model from its config and the data shape, with seeded initial weights."""

from __future__ import annotations

import torch
from torch import nn

import vaekit.nn  # noqa: F401  (registers networks and likelihoods)
from vaekit.config import ModelConfig
from vaekit.models.vae import VAE
from vaekit.registry import LIKELIHOODS, MODELS, NETWORKS


@MODELS.register("vae")
def build_vae(cfg: ModelConfig, shape: tuple[int, int, int]) -> VAE:
    encoder, decoder = NETWORKS.get(cfg.network.type)(cfg.network, shape, cfg.latent_dim)
    head = LIKELIHOODS.get(cfg.likelihood.type)(cfg.likelihood, shape)
    return VAE(encoder, decoder, head, cfg.latent_dim, shape)


def build_model(cfg: ModelConfig, shape: tuple[int, int, int], seed: int = 0) -> nn.Module:
    """The model named by cfg.type; its initial weights depend on `seed` only (the global RNG is untouched)."""
    builder = MODELS.get(cfg.type)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return builder(cfg, tuple(shape))
