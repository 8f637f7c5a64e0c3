"""The model registry's entries: how each model type is built from its config, and what it can do."""

from __future__ import annotations

import torch
from torch import nn

import vaekit.nn  # noqa: F401  (registers networks and likelihoods)
from vaekit.config import ModelConfig, PriorConfig
from vaekit.errors import ConfigError
from vaekit.models.conditional import ConditionalVAE
from vaekit.models.hierarchical import HierarchicalVAE
from vaekit.models.priors import PRIORS, build_prior
from vaekit.models.quantizer import VectorQuantizer
from vaekit.models.vae import VAE
from vaekit.models.vqvae import VQVAE
from vaekit.nn.likelihoods import build_likelihood
from vaekit.nn.pixelcnn import GatedPixelCNN
from vaekit.nn.residual import ResidualDecoder, ResidualEncoder
from vaekit.registry import MODELS, NETWORKS, ModelEntry

Shape = tuple[int, int, int]
_TINY_NET = ("model.latent_dim=3", "model.network.hidden=[16]")


def _without_per_dim_kl(cfg: ModelConfig) -> frozenset[str]:
    """A prior without a per-dimension closed-form KL (the VampPrior) takes `kl_per_dim` away."""
    return frozenset() if PRIORS.get(cfg.prior.type).per_dim_kl else frozenset({"kl_per_dim"})


def _bodies(cfg: ModelConfig, shape: Shape, head: nn.Module, decoder_latent: int) -> tuple[nn.Module, nn.Module]:
    """The encoder of images `shape` and a decoder from `decoder_latent` inputs to the head's parameter_shape.

    When the head needs more channels than the images have (a discretized logistic mixture: 3K per channel), the
    decoder comes from a second call of the network builder; otherwise from the first, so that the weights a seed
    gives the other likelihoods are unchanged.
    """
    build = NETWORKS.get(cfg.network.type)
    encoder, decoder = build(cfg.network, shape, cfg.latent_dim)
    if tuple(head.parameter_shape) != tuple(shape) or decoder_latent != cfg.latent_dim:
        _, decoder = build(cfg.network, tuple(head.parameter_shape), decoder_latent)
    return encoder, decoder


def build_vae(cfg: ModelConfig, shape: Shape) -> VAE:
    head = build_likelihood(cfg.likelihood, shape)
    encoder, decoder = _bodies(cfg, shape, head, cfg.latent_dim)
    return VAE(encoder, decoder, head, cfg.latent_dim, shape, build_prior(cfg.prior, shape, cfg.latent_dim))


def build_cvae(cfg: ModelConfig, shape: Shape) -> ConditionalVAE:
    if cfg.num_classes < 1:
        raise ConfigError(
            "model.type=cvae needs model.num_classes (the number of label classes); `vaekit train` sets it from "
            "the training labels."
        )
    if PRIORS.get(cfg.prior.type).needs_posterior:
        raise ConfigError(
            f"model.type=cvae takes model.prior.type=standard_normal; a {cfg.prior.type} prior would need labels "
            "for its pseudo-inputs. Use model.type=vae or hvae for the VampPrior."
        )
    head = build_likelihood(cfg.likelihood, shape)
    encoder, decoder = _bodies(cfg, shape, head, cfg.latent_dim + cfg.num_classes)
    return ConditionalVAE(encoder, decoder, head, cfg.latent_dim, shape, cfg.num_classes)


def build_hvae(cfg: ModelConfig, shape: Shape) -> HierarchicalVAE:
    if not cfg.hierarchy.upper_dims:
        raise ConfigError("model.type=hvae needs at least one layer above the bottom one: model.hierarchy.upper_dims.")
    dims = [cfg.latent_dim, *cfg.hierarchy.upper_dims]
    head = build_likelihood(cfg.likelihood, shape)
    encoder, decoder = _bodies(cfg, shape, head, cfg.latent_dim)
    top_prior = build_prior(cfg.prior, shape, dims[-1])
    return HierarchicalVAE(encoder, decoder, head, dims, cfg.hierarchy.hidden, cfg.network.activation, top_prior, shape)


def build_vqvae(cfg: ModelConfig, shape: Shape) -> VQVAE:
    channels, height, width = shape
    vq = cfg.vq
    sizes = (vq.hidden_channels, vq.num_residual_blocks, vq.embedding_dim)
    quantizer = VectorQuantizer(vq.num_codes, vq.embedding_dim, ema=vq.ema, decay=vq.decay)
    head = build_likelihood(cfg.likelihood, shape)
    decoder = ResidualDecoder((height, width), head.parameter_shape[0], *sizes)
    return VQVAE(ResidualEncoder((height, width), channels, *sizes), quantizer, decoder, head, shape)


MODELS.register("vae")(
    ModelEntry(
        build_vae,
        frozenset({"latent_vector", "kl_per_dim"}),
        "likelihood",
        _TINY_NET,
        _without_per_dim_kl,
    )
)
MODELS.register("cvae")(
    ModelEntry(
        build_cvae,
        frozenset({"latent_vector", "kl_per_dim", "labels"}),
        "likelihood",
        ("model.type=cvae", "model.num_classes=3", *_TINY_NET),
    )
)
MODELS.register("hvae")(
    ModelEntry(
        build_hvae,
        frozenset({"latent_vector", "layers"}),
        "likelihood",
        ("model.type=hvae", *_TINY_NET, "model.hierarchy.upper_dims=[2]", "model.hierarchy.hidden=[8]"),
    )
)
MODELS.register("vqvae")(
    ModelEntry(
        build_vqvae,
        frozenset({"codes"}),
        "codebook",
        (
            "model.type=vqvae",
            "objective.name=vq",
            "model.vq.num_codes=6",
            "model.vq.embedding_dim=3",
            "model.vq.hidden_channels=8",
            "model.vq.num_residual_blocks=1",
        ),
    )
)


def model_entry(model_type: str) -> ModelEntry:
    """The registry entry of model.type `model_type` (a ConfigError naming the choices if there is none)."""
    return MODELS.get(model_type)


def capabilities(cfg: ModelConfig) -> frozenset[str]:
    """What a model of this config can do beyond the contract (vaekit.models.base.CAPABILITIES)."""
    return MODELS.get(cfg.type).capabilities_for(cfg)


def build_model(cfg: ModelConfig, shape: Shape, seed: int = 0) -> nn.Module:
    """The model named by cfg.type; its initial weights depend on `seed` only (the global RNG is untouched)."""
    entry = MODELS.get(cfg.type)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return entry.build(cfg, tuple(shape))


def parameter_count(cfg: ModelConfig, shape: Shape) -> int:
    """The number of parameters build_model would create, counted without allocating them (meta tensors)."""
    with torch.device("meta"):
        model = MODELS.get(cfg.type).build(cfg, tuple(shape))
    return sum(p.numel() for p in model.parameters())


def build_code_prior(cfg: PriorConfig, num_codes: int, seed: int = 0) -> GatedPixelCNN:
    """The VQ-VAE's second stage, a gated PixelCNN over K = num_codes categories, seeded like build_model."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return GatedPixelCNN(num_codes, hidden_channels=cfg.hidden_channels, num_layers=cfg.num_layers)
