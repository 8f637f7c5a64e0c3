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
from vaekit.nn.columns import EncodedInput, TableInput
from vaekit.nn.likelihoods import build_likelihood
from vaekit.nn.pixelcnn import GatedPixelCNN
from vaekit.nn.recurrent import TokenEmbedding
from vaekit.nn.residual import ResidualDecoder, ResidualEncoder
from vaekit.registry import MODELS, NETWORKS, ModelEntry
from vaekit.spec import DataSpec, as_spec

_TINY_NET = ("model.latent_dim=3", "model.network.hidden=[16]")

# The layer between x and the encoder body, by kind, from (spec, model.network): images are read as they are; a
# table's categorical columns one-hot (vaekit.nn.columns.TableInput); a sequence's tokens embedded
# (vaekit.nn.recurrent.TokenEmbedding). A VampPrior's pseudo-inputs live in the layer's output space.
INPUT_LAYERS = {
    "image": lambda spec, network: None,
    "table": lambda spec, network: TableInput(spec),
    "sequence": lambda spec, network: TokenEmbedding(spec, network.embedding_dim),
}


def _without_per_dim_kl(cfg: ModelConfig) -> frozenset[str]:
    """A prior without a per-dimension closed-form KL (the VampPrior) takes `kl_per_dim` away."""
    return frozenset() if PRIORS.get(cfg.prior.type).per_dim_kl else frozenset({"kl_per_dim"})


def check_network(cfg: ModelConfig, spec: DataSpec) -> None:
    """A ConfigError unless model.network.type takes data of `spec`'s kind."""
    if cfg.network.type not in spec.facts.networks:
        raise ConfigError(
            f"model.network.type={cfg.network.type} does not take {spec.kind} data; for a {spec.kind} use "
            f"model.network.type={' or '.join(spec.facts.networks)}."
        )


def _input_layer(cfg: ModelConfig, spec: DataSpec) -> tuple[nn.Module | None, tuple[int, ...]]:
    """The kind's input layer (None: x as it is) and the shape the encoder body reads."""
    check_network(cfg, spec)
    layer = INPUT_LAYERS[spec.kind](spec, cfg.network)
    return layer, (tuple(layer.out_shape) if layer is not None else spec.event_shape)


def _bodies(
    cfg: ModelConfig, spec: DataSpec, head: nn.Module, decoder_latent: int
) -> tuple[nn.Module, nn.Module, nn.Module | None]:
    """The encoder of x, a decoder from `decoder_latent` inputs to the head's parameter_shape, and the input layer
    between x and the encoder body (None for images, read as they are).

    When the head needs another shape than the encoder reads (a discretized logistic mixture: 3K channels per
    channel; a table's parameters), the decoder comes from a second call of the network builder; otherwise from the
    first, so that the weights a seed gives the other likelihoods are unchanged.
    """
    layer, in_shape = _input_layer(cfg, spec)
    build = NETWORKS.get(cfg.network.type)
    encoder, decoder = build(cfg.network, in_shape, cfg.latent_dim)
    if tuple(head.parameter_shape) != tuple(in_shape) or decoder_latent != cfg.latent_dim:
        _, decoder = build(cfg.network, tuple(head.parameter_shape), decoder_latent)
    return encoder, decoder, layer


def build_vae(cfg: ModelConfig, spec: DataSpec) -> VAE:
    head = build_likelihood(cfg.likelihood, spec)
    encoder, decoder, layer = _bodies(cfg, spec, head, cfg.latent_dim)
    in_shape = tuple(layer.out_shape) if layer is not None else spec.event_shape
    prior = build_prior(cfg.prior, in_shape, cfg.latent_dim, bounded=spec.kind == "image")
    return VAE(
        encoder,
        decoder,
        head,
        cfg.latent_dim,
        spec.event_shape,
        prior,
        input_layer=layer,
        bn_gamma=cfg.posterior_bn_gamma,
    )


def build_cvae(cfg: ModelConfig, spec: DataSpec) -> ConditionalVAE:
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
    head = build_likelihood(cfg.likelihood, spec)
    encoder, decoder, layer = _bodies(cfg, spec, head, cfg.latent_dim + cfg.num_classes)
    return ConditionalVAE(
        encoder, decoder, head, cfg.latent_dim, spec.event_shape, cfg.num_classes, layer, cfg.posterior_bn_gamma
    )


def build_hvae(cfg: ModelConfig, spec: DataSpec) -> HierarchicalVAE:
    if not cfg.hierarchy.upper_dims:
        raise ConfigError("model.type=hvae needs at least one layer above the bottom one: model.hierarchy.upper_dims.")
    dims = [cfg.latent_dim, *cfg.hierarchy.upper_dims]
    head = build_likelihood(cfg.likelihood, spec)
    encoder, decoder, layer = _bodies(cfg, spec, head, cfg.latent_dim)
    if layer is not None:  # the top prior's pseudo-inputs are then rows, read through the input layer
        encoder = EncodedInput(layer, encoder)
    top_prior = build_prior(cfg.prior, spec.event_shape, dims[-1], bounded=spec.kind == "image")
    return HierarchicalVAE(
        encoder, decoder, head, dims, cfg.hierarchy.hidden, cfg.network.activation, top_prior, spec.event_shape
    )


def build_vqvae(cfg: ModelConfig, spec: DataSpec) -> VQVAE:
    shape = spec.event_shape
    channels, height, width = shape
    vq = cfg.vq
    sizes = (vq.hidden_channels, vq.num_residual_blocks, vq.embedding_dim)
    quantizer = VectorQuantizer(vq.num_codes, vq.embedding_dim, ema=vq.ema, decay=vq.decay)
    head = build_likelihood(cfg.likelihood, spec)
    decoder = ResidualDecoder((height, width), head.parameter_shape[0], *sizes)
    return VQVAE(ResidualEncoder((height, width), channels, *sizes), quantizer, decoder, head, shape)


MODELS.register("vae")(
    ModelEntry(
        build_vae,
        frozenset({"latent_vector", "kl_per_dim", "gaussian_posterior", "networks"}),
        "likelihood",
        _TINY_NET,
        _without_per_dim_kl,
        kinds=("image", "table", "sequence"),
    )
)
MODELS.register("cvae")(
    ModelEntry(
        build_cvae,
        frozenset({"latent_vector", "kl_per_dim", "labels", "gaussian_posterior", "networks"}),
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
        kinds=("image",),  # it quantizes a grid of image features
    )
)


def model_entry(model_type: str) -> ModelEntry:
    """The registry entry of model.type `model_type` (a ConfigError naming the choices if there is none)."""
    return MODELS.get(model_type)


def capabilities(cfg: ModelConfig) -> frozenset[str]:
    """What a model of this config can do beyond the contract (vaekit.models.base.CAPABILITIES)."""
    return MODELS.get(cfg.type).capabilities_for(cfg)


def build_model(cfg: ModelConfig, spec: DataSpec | tuple[int, ...], seed: int = 0) -> nn.Module:
    """The model named by cfg.type for data `spec`; its initial weights depend on `seed` only (the global RNG is
    untouched)."""
    entry, spec = _entry_for(cfg, spec)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return entry.build(cfg, spec)


def _entry_for(cfg: ModelConfig, spec: DataSpec | tuple[int, ...]) -> tuple[ModelEntry, DataSpec]:
    """The registry entry of cfg.type, checked to model data of `spec`'s kind, and the spec."""
    entry, spec = MODELS.get(cfg.type), as_spec(spec)
    if spec.kind not in entry.kinds:
        takes = [n for n in MODELS.names() if spec.kind in MODELS.get(n).kinds]
        raise ConfigError(
            f"model.type={cfg.type} models {' and '.join(entry.kinds)} data, not a {spec.kind}. For a {spec.kind} "
            f"use model.type={' or '.join(takes)}."
        )
    return entry, spec


def parameter_count(cfg: ModelConfig, spec: DataSpec | tuple[int, ...]) -> int:
    """The number of parameters build_model would create, counted without allocating them (meta tensors)."""
    entry, spec = _entry_for(cfg, spec)
    with torch.device("meta"):
        model = entry.build(cfg, spec)
    return sum(p.numel() for p in model.parameters())


def build_code_prior(cfg: PriorConfig, num_codes: int, seed: int = 0) -> GatedPixelCNN:
    """The VQ-VAE's second stage, a gated PixelCNN over K = num_codes categories, seeded like build_model."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return GatedPixelCNN(num_codes, hidden_channels=cfg.hidden_channels, num_layers=cfg.num_layers)
