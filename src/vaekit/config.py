"""The validated config tree (model / objective / data / train / eval / prior), YAML I/O and dotted overrides.

A config is built in layers, later ones winning: defaults <- preset <- CONFIG.yaml <- command-line flags <-
`key.sub=value` overrides. Every layer is checked against the dataclasses below, so an unknown key or a
value of the wrong type is an error that names the key and the valid choices.

Five sections have variants, chosen by one key: model.type, model.likelihood.type, model.prior.type,
objective.name and data.kind. Each variant is its own dataclass, holding only the keys that variant uses and the
rules of their values, registered under its name in the registry of its family (vaekit.registry: MODELS,
LIKELIHOODS, PRIORS, OBJECTIVES, DATA_KINDS), beside the builder of the same name. A key given for a variant
that does not use it is an error naming the variant, the keys it takes and the variants that take the key:
`objective.gamma=5` with objective.name=elbo trains nothing different, so it is refused rather than ignored.
A layer that chooses another variant (`objective.name=capacity` over a preset's elbo) drops the keys that earlier
layers gave the variant it replaces. `ObjectiveConfig(name="iwae", num_samples=5)` builds the variant it names.

What is "given" depends on where a key comes from:
- presets and `key.sub=value` overrides (and the flags that set keys): every key, whatever its value;
- a YAML file (and direct construction in Python): keys at a value other than their default. A key at its
  default changes nothing, and the config.yaml of every run written before variants had schemas holds every key
  of every variant at its default (`vaekit train RUN/config.yaml` trains such a run again);
- a run's own config.yaml (config_from_dict): nothing is refused; keys its variants do not take are left out,
  with a warning when their value is not the default (a run trained while such keys were ignored).
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import re
import types
import typing
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import yaml

from vaekit.errors import ConfigError
from vaekit.registry import DATA_KINDS, LIKELIHOODS, MODELS, NETWORKS, OBJECTIVES, PRIORS, Registry

MAX_SEED = 2**63 - 1  # seeds feed numpy's SeedSequence and torch generators: non-negative 63-bit integers
MAX_SIDE = 2**16  # image sides and channel counts (data.resize, data.center_crop, a run's data shape)
MAX_WIDTH = 2**16  # latent sizes, hidden widths, channels, codebook sizes: larger ones cannot be allocated sensibly

# ---------------------------------------------------------------------------------------------------------
# Rules: value -> what is wrong with it (the end of "config key 'KEY' ..."), or None. Each key names its rule
# where it is declared, so a schema's validation reads beside its keys.

Rule = Callable[[Any], "str | None"]


def _did_you_mean(name: str, choices: typing.Iterable[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(str(name), list(choices), n=1)
    return f" Did you mean '{prefix}{close[0]}'?" if close else ""


def positive(v: float) -> str | None:
    return None if v > 0 else f"must be positive, got {v}"


def non_negative(v: float) -> str | None:
    return None if v >= 0 else f"must be >= 0, got {v}"


def at_least(low: int) -> Rule:
    return lambda v: None if v >= low else f"must be at least {low}, got {v}"


def in_open_unit(v: float) -> str | None:
    return None if 0.0 < v < 1.0 else f"must be in (0, 1), got {v}"


def in_unit_interval(v: float) -> str | None:
    return None if 0.0 <= v <= 1.0 else f"must be in [0, 1], got {v}"


def in_half_open_unit(v: float) -> str | None:
    return None if 0.0 < v <= 1.0 else f"must be in (0, 1], got {v}"


def one_of(*choices: str) -> Rule:
    def rule(v: str) -> str | None:
        return None if v in choices else f"is '{v}'.{_did_you_mean(v, choices)} Choose one of: {', '.join(choices)}"

    return rule


def size(v: int) -> str | None:
    """A size to allocate: positive, at most MAX_WIDTH."""
    if v <= 0:
        return f"must be positive, got {v}"
    return None if v <= MAX_WIDTH else f"holds a size above {MAX_WIDTH} ([{v}]); use a smaller one"


def sizes(values: list[int]) -> str | None:
    """Sizes to allocate (an empty list is allowed: e.g. no hidden layer)."""
    if any(v <= 0 for v in values):
        return f"must hold positive sizes, got {values}"
    if any(v > MAX_WIDTH for v in values):
        return f"holds a size above {MAX_WIDTH} ({values}); use a smaller one"
    return None


def seed_range(v: int) -> str | None:
    return None if 0 <= v <= MAX_SEED else f"must be an integer from 0 to 2^63 - 1, got {v}"


def optional_sizes(values: list[int] | None) -> str | None:
    """Sizes, or None: not set (then another key's sizes are used)."""
    return None if values is None else sizes(values)


def side(value: int | list[int] | None) -> str | None:
    """An image side S or [H, W] (data.resize, data.center_crop); None: not set."""
    sides = [value] if isinstance(value, int) else value or []
    if value is not None and (len(sides) not in (1, 2) or not all(0 < v <= MAX_SIDE for v in sides)):
        return f"must be a side S or [H, W] with sides from 1 to {MAX_SIDE}, got {value}"
    return None


def setting(default: Any, rule: Rule | None = None) -> Any:
    """A config key: its default and the rule of its values."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata={"rule": rule})
    return field(default=default, metadata={"rule": rule})


def subsection(cls: type) -> Any:
    return field(default_factory=cls)


# ---------------------------------------------------------------------------------------------------------
# Sections and families of variants


class _ChooseVariant(type):
    """`ObjectiveConfig(name="iwae", num_samples=5)` builds the variant its key names (here the IWAE's schema), so
    code and tests that build a section in Python get the typed variant and the same errors as a config file."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls.__dict__.get("FAMILY") is None:
            return super().__call__(*args, **kwargs)
        if args:
            raise TypeError(f"{cls.__name__} takes keyword arguments (the config keys)")
        return _build(cls, kwargs, cls.PATH, _Parse(lambda key: "defaults"))


class Section(metaclass=_ChooseVariant):
    """A config section at dotted path PATH; its keys' rules, and `check`, run whenever one is built."""

    PATH: ClassVar[str] = ""

    def __post_init__(self) -> None:
        check_section(self)

    def check(self) -> None:
        """Rules between this section's keys (each key's own rule is declared with the key)."""


class VariantSection(Section):
    """The base of a family: FAMILY (a registry) maps the value of KEY to the variant's schema."""

    FAMILY: ClassVar[Registry | None] = None  # set on a family's base class only
    KEY: ClassVar[str] = "type"

    def __setattr__(self, name: str, value: Any) -> None:
        """Setting KEY to another variant makes the section that variant (keys it does not take are dropped, the new
        ones take their defaults), as a later config layer does; a key the variant does not take can only be set
        to its default (a no-op), as in a config file."""
        if name not in self.__dict__ and _field(type(self), name) is None and not name.startswith("_"):
            self._check_unused({name: value})
            return
        if name == self.KEY and name in self.__dict__ and value != getattr(self, name):
            schema = self.family().schema(value)
            kept = {f.name: getattr(self, f.name) for f in dataclasses.fields(schema) if f.name in self.__dict__}
            self.__dict__.clear()
            object.__setattr__(self, "__class__", schema)
            for f in dataclasses.fields(schema):
                object.__setattr__(self, f.name, kept.get(f.name, _default(f)))
            object.__setattr__(self, name, value)
            check_section(self)
            return
        object.__setattr__(self, name, value)

    def _check_unused(self, keys: dict[str, Any]) -> None:
        """The ConfigError of keys this variant does not take, unless each is at its default (then nothing)."""
        _build(type(self), {self.KEY: getattr(self, self.KEY), **keys}, self.PATH, _Parse(lambda key: "defaults"))

    @classmethod
    def base(cls) -> type:
        return next(c for c in cls.__mro__ if c.__dict__.get("FAMILY") is not None)

    @classmethod
    def family(cls) -> Registry:
        return cls.base().__dict__["FAMILY"]

    @classmethod
    def variant(cls) -> str:
        """The name this schema is registered under (its default value of KEY)."""
        return next(f.default for f in dataclasses.fields(cls) if f.name == cls.KEY)

    @classmethod
    def keys(cls) -> list[str]:
        """The keys this variant takes, besides KEY."""
        return [f.name for f in dataclasses.fields(cls) if f.name != cls.KEY]


@dataclass
class NetworkConfig(VariantSection):
    """Encoder/decoder body: `mlp` or `conv` (images and tables; the decoder mirrors the encoder), or `recurrent`
    (sequences: a GRU/LSTM encoder and an autoregressive GRU/LSTM decoder, vaekit.nn.recurrent)."""

    PATH: ClassVar[str] = "model.network"
    FAMILY: ClassVar[Registry | None] = NETWORKS
    type: str = "mlp"


@dataclass
class _FeedForwardNetworkConfig(NetworkConfig):
    """The keys of the mlp and conv bodies (each takes both, as before networks had schemas)."""

    hidden: list[int] = setting([512], sizes)  # mlp: hidden widths, input side first; conv: widths after the convs
    channels: list[int] = setting([32, 64], sizes)  # conv: channels per stride-2 stage
    activation: str = setting("relu", one_of("relu", "tanh", "elu", "leaky_relu", "gelu", "silu"))


@NETWORKS.register_schema("mlp")
@dataclass
class MlpNetworkConfig(_FeedForwardNetworkConfig):
    type: str = "mlp"


@NETWORKS.register_schema("conv")
@dataclass
class ConvNetworkConfig(_FeedForwardNetworkConfig):
    type: str = "conv"


@NETWORKS.register_schema("recurrent")
@dataclass
class RecurrentNetworkConfig(NetworkConfig):
    """Sequences: token embeddings read by a GRU/LSTM encoder; an autoregressive GRU/LSTM decoder whose initial state
    is a linear map of z and whose every step also reads z (He et al. 2019)."""

    type: str = "recurrent"
    cell: str = setting("lstm", one_of("lstm", "gru"))
    embedding_dim: int = setting(128, size)  # E, the encoder's and the decoder's token embeddings (each its own)
    hidden: list[int] = setting([256], sizes)  # the widths of the stacked recurrent layers (all equal), input first
    # the decoder's own layers (all equal), e.g. MOSES's [512, 512, 512] beside a [256] encoder; null: `hidden`
    decoder_hidden: list[int] | None = setting(None, optional_sizes)
    dropout: float = setting(0.0, in_unit_interval)  # between stacked recurrent layers, in training (torch's RNN)

    def check(self) -> None:
        for key, widths in (("hidden", self.hidden), ("decoder_hidden", self.decoder_hidden)):
            if widths is not None and (not widths or len(set(widths)) != 1):
                raise ConfigError(
                    f"config key 'model.network.{key}' lists the recurrent layers' widths, which must be equal and "
                    f"at least one (e.g. [256] or [256, 256]); got {widths}."
                )


# --- model.likelihood.type: p(x|z); docs/likelihood.md says which to use for which data.

# levels: the values a pixel takes (256: 8-bit); 0: from the training data, and stays 0 for continuous data. The
# discretized likelihoods are probabilities of those values; the Bernoulli and the Gaussian record them, and the
# Gaussian's dequantization and the data's grid check read them (vaekit.workflow.data).
_LEVELS = 0
_SIGMA = 1.0  # the fixed standard deviation, or the initial one when learned


@dataclass
class LikelihoodConfig(VariantSection):
    """p(x|z): `bernoulli` (logits), `gaussian` (a density), a discretized likelihood over the pixels' `levels`
    values, or `columns` (a table's columns, each by its type)."""

    PATH: ClassVar[str] = "model.likelihood"
    FAMILY: ClassVar[Registry | None] = LIKELIHOODS
    type: str = "bernoulli"


@LIKELIHOODS.register_schema("bernoulli")
@dataclass
class BernoulliLikelihoodConfig(LikelihoodConfig):
    type: str = "bernoulli"
    levels: int = setting(_LEVELS, non_negative)


@LIKELIHOODS.register_schema("gaussian")
@dataclass
class GaussianLikelihoodConfig(LikelihoodConfig):
    type: str = "gaussian"
    sigma: float = setting(_SIGMA, positive)
    # none | shared | per_pixel | decoder (log sigma a function of z)
    learn_sigma: str = setting("none", one_of("none", "shared", "per_pixel", "decoder"))
    levels: int = setting(_LEVELS, non_negative)


@LIKELIHOODS.register_schema("discretized_gaussian")
@dataclass
class DiscretizedGaussianLikelihoodConfig(GaussianLikelihoodConfig):
    type: str = "discretized_gaussian"


@LIKELIHOODS.register_schema("discretized_logistic")
@dataclass
class DiscretizedLogisticLikelihoodConfig(LikelihoodConfig):
    type: str = "discretized_logistic"
    components: int = setting(5, at_least(1))  # K, logistics in each pixel's mixture (PixelCNN++: 10)
    levels: int = setting(_LEVELS, non_negative)


@LIKELIHOODS.register_schema("columns")
@dataclass
class ColumnsLikelihoodConfig(LikelihoodConfig):
    """Tables: each column by its type (real: Gaussian, count, binary, categorical)."""

    type: str = "columns"
    sigma: float = setting(_SIGMA, positive)  # the real columns' standard deviation
    learn_sigma: str = setting("none", one_of("none", "shared", "per_column", "decoder"))
    count: str = setting("poisson", one_of("poisson", "negative_binomial"))  # the count columns' distribution


@LIKELIHOODS.register_schema("tokens")
@dataclass
class TokensLikelihoodConfig(LikelihoodConfig):
    """Sequences: the autoregressive decoder's categorical over the next token, teacher-forced (vaekit.nn.tokens)."""

    type: str = "tokens"
    # Bowman et al. 2016: in training, each decoder input token becomes <unk> with this probability
    word_dropout: float = setting(0.0, lambda v: None if 0.0 <= v < 1.0 else f"must be in [0, 1), got {v}")


# --- model.prior.type: p(z) of a VAE (of the top layer of a hierarchical one).


@dataclass
class LatentPriorConfig(VariantSection):
    """p(z): N(0, I), or a VampPrior (Tomczak & Welling 2018)."""

    PATH: ClassVar[str] = "model.prior"
    FAMILY: ClassVar[Registry | None] = PRIORS
    type: str = "standard_normal"


@PRIORS.register_schema("standard_normal")
@dataclass
class StandardNormalPriorConfig(LatentPriorConfig):
    type: str = "standard_normal"


@PRIORS.register_schema("vamp")
@dataclass
class VampPriorConfig(LatentPriorConfig):
    type: str = "vamp"
    components: int = setting(500, size)  # K, the number of learned pseudo-inputs
    pseudo_inputs_mean: float = 0.05  # pseudo-inputs start as N(mean, std^2) values, clipped to [0, 1]
    pseudo_inputs_std: float = setting(0.01, non_negative)


# --- model.type


@dataclass
class HierarchyConfig(Section):
    """model.type=hvae: stochastic layers above the bottom one (whose size is model.latent_dim)."""

    PATH: ClassVar[str] = "model.hierarchy"
    upper_dims: list[int] = setting([50], sizes)  # sizes of layers 2..L, bottom to top
    hidden: list[int] = setting([100, 100], sizes)  # MLP widths between consecutive layers


@dataclass
class VQConfig(Section):
    """model.type=vqvae: residual conv encoder/decoder around a codebook of num_codes vectors."""

    PATH: ClassVar[str] = "model.vq"
    num_codes: int = setting(512, size)  # K, the codebook size
    embedding_dim: int = setting(64, size)  # D, the size of each codebook vector
    hidden_channels: int = setting(128, size)  # channels of the encoder's and decoder's residual stacks
    num_residual_blocks: int = setting(2, non_negative)
    ema: bool = True  # learn the codebook by exponential moving averages instead of its loss term
    decay: float = setting(0.99, in_open_unit)  # the EMA decay of the codebook and of the code usage statistics


@dataclass
class ModelConfig(VariantSection):
    PATH: ClassVar[str] = "model"
    FAMILY: ClassVar[Registry | None] = MODELS
    type: str = "vae"


@dataclass
class _GaussianLatentModel(ModelConfig):
    """The keys of the models with a Gaussian latent vector and an encoder/decoder body."""

    latent_dim: int = setting(20, size)  # hvae: the bottom layer z_1, the one the decoder reads
    network: NetworkConfig = subsection(NetworkConfig)
    likelihood: LikelihoodConfig = subsection(LikelihoodConfig)
    prior: LatentPriorConfig = subsection(LatentPriorConfig)


@dataclass
class _VectorPosteriorModel(_GaussianLatentModel):
    """The models whose q(z|x) is one diagonal Gaussian from a posterior head."""

    # BN-VAE (Zhu et al. 2020): the posterior means batch-normalized with this fixed scale gamma, so the batch's
    # KL stays above latent_dim * gamma^2 / 2 and the posterior cannot collapse; 0: off (the paper uses 0.5-0.7)
    posterior_bn_gamma: float = setting(0.0, non_negative)

    def check(self) -> None:
        if self.posterior_bn_gamma > 0 and self.prior.type != "standard_normal":
            raise ConfigError(
                f"model.posterior_bn_gamma (BN-VAE) bounds the KL to the N(0, I) prior; model.prior.type="
                f"{self.prior.type} has no such bound. Set model.prior.type=standard_normal or posterior_bn_gamma=0."
            )


@MODELS.register_schema("vae")
@dataclass
class VaeConfig(_VectorPosteriorModel):
    type: str = "vae"


@MODELS.register_schema("hvae")
@dataclass
class HvaeConfig(_GaussianLatentModel):
    type: str = "hvae"
    hierarchy: HierarchyConfig = subsection(HierarchyConfig)


@MODELS.register_schema("cvae")
@dataclass
class CvaeConfig(_VectorPosteriorModel):
    type: str = "cvae"
    num_classes: int = setting(0, non_negative)  # the number of label classes (0: taken from the training labels)

    def check(self) -> None:
        super().check()
        if self.prior.type != "standard_normal":
            raise ConfigError(
                f"model.type=cvae takes model.prior.type=standard_normal; a {self.prior.type} prior would need labels "
                "for its pseudo-inputs. Use model.type=vae or hvae for the VampPrior."
            )


@MODELS.register_schema("vqvae")
@dataclass
class VqvaeConfig(ModelConfig):
    """A VQ-VAE's encoder and decoder are sized by model.vq (its code vectors are model.vq.embedding_dim long)."""

    type: str = "vqvae"
    likelihood: LikelihoodConfig = subsection(LikelihoodConfig)
    vq: VQConfig = subsection(VQConfig)


@MODELS.register_schema("lm")
@dataclass
class LmConfig(ModelConfig):
    """The language model: the recurrent decoder with no latent (the baseline a sentence VAE is read against)."""

    type: str = "lm"
    network: RecurrentNetworkConfig = subsection(RecurrentNetworkConfig)
    likelihood: TokensLikelihoodConfig = subsection(TokensLikelihoodConfig)


# --- objective.name


@dataclass
class ObjectiveConfig(VariantSection):
    PATH: ClassVar[str] = "objective"
    FAMILY: ClassVar[Registry | None] = OBJECTIVES
    KEY: ClassVar[str] = "name"
    name: str = "elbo"


_BETA = 1.0  # weight on KL(q(z|x) || p(z))


@OBJECTIVES.register_schema("elbo")
@dataclass
class ElboConfig(ObjectiveConfig):
    name: str = "elbo"
    beta: float = setting(_BETA, non_negative)
    num_samples: int = setting(1, positive)  # Monte Carlo samples L of z per example
    warmup_steps: int = setting(0, non_negative)  # KL weight ramped linearly from 0 to beta over this many steps ...
    warmup_epochs: float = setting(0.0, non_negative)  # ... or epochs (the two add up)
    warmup_start: float = setting(0.0, in_unit_interval)  # the weight's start, a fraction of beta (He et al.: 0.1)
    # linear: one ramp over the warm-up; cyclical (Fu et al. 2019): the warm-up cut into warmup_cycles cycles, each
    # rising over its first warmup_cycle_ratio, then holding beta
    warmup_schedule: str = setting("linear", one_of("linear", "cyclical"))
    warmup_cycles: int = setting(4, positive)  # M
    warmup_cycle_ratio: float = setting(0.5, in_half_open_unit)  # R
    free_bits: float = setting(0.0, non_negative)  # lambda, in nats per group; 0 turns free bits off
    free_bits_group_size: int = setting(1, positive)  # latent dimensions per free-bits group (1: per dimension)
    # Li et al. 2019: train this many epochs as an autoencoder (KL weight 0), then re-initialize the decoder and go
    # on as a VAE (the warm-up counted from there), with objective.free_bits
    pretrain_epochs: int = setting(0, non_negative)

    def check(self) -> None:
        if self.warmup_schedule == "cyclical" and self.warmup_steps == 0 and self.warmup_epochs == 0:
            raise ConfigError(
                "objective.warmup_schedule=cyclical cycles over the warm-up: give its length, e.g. "
                "objective.warmup_epochs=20 (the cycles then span it; train.epochs for Fu et al.'s whole run)."
            )


@OBJECTIVES.register_schema("iwae")
@dataclass
class IwaeConfig(ObjectiveConfig):
    """The importance-weighted bound has no separate KL term: no beta, warm-up or free bits."""

    name: str = "iwae"
    num_samples: int = setting(1, positive)  # importance samples k


@OBJECTIVES.register_schema("capacity")
@dataclass
class CapacityConfig(ObjectiveConfig):
    """|KL - C| weighted by gamma, C scheduled: the KL weight and its warm-up are this objective's own."""

    name: str = "capacity"
    num_samples: int = setting(1, positive)
    gamma: float = setting(1000.0, non_negative)  # weight on |KL - C| (Burgess et al. 2018 use 1000 on dSprites)
    capacity_max: float = setting(25.0, non_negative)  # C_max, the KL target in nats that C rises to
    capacity_steps: int = setting(100_000, non_negative)  # C raised linearly from 0 to capacity_max over these ...
    capacity_epochs: float = setting(0.0, non_negative)  # ... plus this many epochs


@OBJECTIVES.register_schema("beta_tcvae")
@dataclass
class BetaTcvaeConfig(ObjectiveConfig):
    name: str = "beta_tcvae"
    beta: float = setting(_BETA, non_negative)  # weight on the total correlation (the other KL terms have 1)
    num_samples: int = setting(1, positive)


@OBJECTIVES.register_schema("vq")
@dataclass
class VqObjectiveConfig(ObjectiveConfig):
    """The VQ-VAE's objective: no KL term and no sampling."""

    name: str = "vq"
    commitment: float = setting(0.25, non_negative)  # beta, the weight on the commitment loss ||z_e - sg[e]||^2
    revive_every: int = setting(0, non_negative)  # re-seed dead codes from the batch every this many steps (0: never)
    revive_threshold: float = setting(1.0, non_negative)  # a code is dead below this usage EMA (positions per batch)


# --- data.kind


@dataclass
class DataConfig(VariantSection):
    """The keys of every kind of data; the kinds add their own."""

    PATH: ClassVar[str] = "data"
    FAMILY: ClassVar[Registry | None] = DATA_KINDS
    KEY: ClassVar[str] = "kind"
    source: str = "digits"  # a built-in name (`vaekit datasets`) or a path
    kind: str = "auto"  # auto (from the source: its keys are those of every kind) | image | table | sequence
    data_dir: str | None = None  # where built-in data sets are looked for; default $VAEKIT_DATA or cache
    test_fraction: float = setting(0.1, in_open_unit)  # hold-out fraction for sources without an official test split
    split_seed: int = setting(0, seed_range)  # of that hold-out split (fixed, so other train.seed share a test set)
    download: bool = True


@DATA_KINDS.register_schema("image")
@dataclass
class ImageDataConfig(DataConfig):
    kind: str = "image"
    binarize: str = setting("none", one_of("none", "static", "dynamic"))
    # Load-time transforms, in this order (vaekit.data.transforms), recorded with the run and applied to any file
    # the run later encodes or evaluates:
    grayscale: bool = False  # RGB -> luma
    resize: int | list[int] | None = setting(None, side)  # S: the shorter side becomes S (aspect kept); [H, W]
    center_crop: int | list[int] | None = setting(None, side)  # S or [H, W]: the central window (after the resize)
    invert: bool = False  # v -> max - v: dark ink on white paper becomes bright ink on black, as in MNIST
    # Data larger than memory: read training batches from a uint8 cache on disk, built once (vaekit.data.stream)
    stream: bool = False
    cache_dir: str | None = None  # where that cache goes; default <data_dir>/cache


@DATA_KINDS.register_schema("table")
@dataclass
class TableDataConfig(DataConfig):
    """CSV/TSV, Parquet, (N, D) arrays: column types are inferred, these keys override them."""

    kind: str = "table"
    columns: dict[str, str] = setting({})  # name -> real | count | binary | categorical
    drop: list[str] = setting([])  # columns left out
    label: str | None = None  # the class column: a conditional VAE's labels, kept out of x
    # Missing cells (NaN, empty, or one of missing_values): refuse (an error naming them) | model (MIWAE: the
    # likelihood counts the observed cells only, the encoder reads the zero-filled row and its mask)
    missing: str = setting("refuse", one_of("refuse", "model"))
    missing_values: list[str] = setting([])  # cell texts that mean "missing" besides NaN and empty, e.g. ["?"]


def _tokenizer(v: str) -> str | None:
    if v in ("auto", "char", "word", "smiles") or str(v).lower().endswith(".json"):
        return None
    hint = _did_you_mean(v, ("auto", "char", "word", "smiles"))
    return f"is '{v}'.{hint} Choose auto, char, word, smiles or a tokenizer.json path"


def _vocab_size(v: int) -> str | None:
    return None if v == 0 or v >= 5 else f"must be 0 (every token) or at least 5 (the 4 specials and a token), got {v}"


def _max_length(v: int) -> str | None:
    return None if v == 0 or v >= 2 else f"must be 0 (no limit) or at least 2 (a token and <eos>), got {v}"


@DATA_KINDS.register_schema("sequence")
@dataclass
class SequenceDataConfig(DataConfig):
    """Text, one example a line (vaekit.data.sequences): a .txt file, a folder with train.txt and test.txt, a column
    of a CSV/TSV/Parquet file, wordnet-glosses, or moses (SMILES)."""

    kind: str = "sequence"
    # auto (the built-in source's own: smiles for moses, else word) | char | word | smiles | a tokenizer.json path
    tokenizer: str = setting("auto", _tokenizer)
    vocab_size: int = setting(0, _vocab_size)  # with the 4 specials: the most frequent training tokens (0: all)
    max_length: int = setting(0, _max_length)  # the longest row kept, <eos> included (0: no limit)
    column: str | None = None  # the text column of a table file
    lowercase: bool = False
    bucket: bool = True  # batches of similar length (each trimmed to its longest row); false: random batches
    train_limit: int = setting(0, non_negative)  # at most this many training examples, a seeded random subset (0: all)
    test_limit: int = setting(0, non_negative)  # as train_limit, for the test split (tested each epoch, evaluated)

    def check(self) -> None:
        if self.lowercase and (self.tokenizer == "smiles" or (self.tokenizer == "auto" and self.source == "moses")):
            raise ConfigError("data.lowercase=true would change SMILES atoms (c is aromatic carbon, C aliphatic).")


@DATA_KINDS.register_schema("auto")
@dataclass
class AutoDataConfig(SequenceDataConfig, TableDataConfig, ImageDataConfig):
    """The kind is known once the source is read: the keys of every kind, checked then (check_data_keys)."""

    kind: str = "auto"


# --- the sections without variants


@dataclass
class TrainConfig(Section):
    PATH: ClassVar[str] = "train"
    epochs: int = setting(10, at_least(1))
    batch_size: int = setting(64, positive)
    lr: float = setting(1e-3, positive)
    lr_schedule: str = "constant"  # constant | iwae (Burda et al.'s 3^i passes at lr * 10^(-i/7))
    adam_betas: list[float] = setting([0.9, 0.999])
    adam_eps: float = setting(1e-8, non_negative)
    seed: int = setting(0, seed_range)
    device: str = setting("cpu", one_of("cpu", "cuda", "auto"))  # auto: cuda when available; torchrun: LOCAL_RANK
    # fp32 | bf16 (autocast of the forward pass) | auto (bf16 where the hardware has it)
    precision: str = setting("fp32", one_of("fp32", "bf16", "auto"))
    compile: bool = False  # torch.compile the model and objective
    progress: bool = True  # a live progress bar when writing to a terminal
    num_sample_images: int = setting(64, at_least(1))  # size of the sample grid written at the end of training
    # He et al. 2019: before each step, update the inference network alone on fresh batches until its loss stops
    # falling (at most aggressive_max_steps), the step then moving the rest; off once the test MI stops rising
    aggressive: bool = False
    aggressive_max_steps: int = setting(100, at_least(1))

    def check(self) -> None:
        betas = self.adam_betas
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ConfigError(
                f"config key 'train.adam_betas' must be two numbers in [0, 1), e.g. [0.9, 0.999]; got {betas}."
            )


@dataclass
class PriorConfig(Section):
    """The second stage of a VQ-VAE (`vaekit train-prior`): a gated PixelCNN over the training set's codes."""

    PATH: ClassVar[str] = "prior"
    hidden_channels: int = setting(64, positive)
    num_layers: int = setting(8, positive)
    epochs: int = setting(10, positive)
    batch_size: int = setting(64, positive)
    lr: float = setting(1e-3, positive)
    lr_schedule: str = "constant"  # as train.lr_schedule


@dataclass
class EvalConfig(Section):
    PATH: ClassVar[str] = "eval"
    batch_size: int = setting(1000, positive)


@dataclass
class Config(Section):
    model: ModelConfig = subsection(ModelConfig)
    objective: ObjectiveConfig = subsection(ObjectiveConfig)
    data: DataConfig = subsection(DataConfig)
    train: TrainConfig = subsection(TrainConfig)
    eval: EvalConfig = subsection(EvalConfig)
    prior: PriorConfig = subsection(PriorConfig)

    def to_dict(self) -> dict[str, Any]:
        """The keys of the chosen variants only: what is written is what the run uses."""
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def check(self) -> None:
        """The rules between sections."""
        model, objective = self.model, self.objective
        if (model.type == "vqvae") != (objective.name == "vq"):
            raise ConfigError(
                f"model.type={model.type} cannot train with objective.name={objective.name}: a VQ-VAE trains "
                "with objective.name=vq, and objective vq needs model.type=vqvae. Set both or neither."
            )
        group = getattr(objective, "free_bits_group_size", 1)
        latent_dim = getattr(model, "latent_dim", None)
        if latent_dim is not None and latent_dim % group:
            raise ConfigError(
                f"config key 'objective.free_bits_group_size' ({group}) must be a positive divisor of "
                f"model.latent_dim ({latent_dim})."
            )


# ---------------------------------------------------------------------------------------------------------
# Checks: each section's keys by their rules, then the section's own check.


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[misc]


def _check_value(f: dataclasses.Field, value: Any, key: str) -> None:
    """Numbers finite (every float of the config), then the key's rule."""
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        if isinstance(item, float) and not math.isfinite(item):
            where = f"{key}[{i}]" if isinstance(value, list) else key
            raise ConfigError(f"config key '{where}' must be a finite number, got {item}.")
    rule = f.metadata.get("rule")
    problem = rule(value) if rule is not None else None
    if problem:
        raise ConfigError(f"config key '{key}' {problem}.")


def check_section(section: Section) -> None:
    """The rules of one section's keys and its own check (its subsections check themselves when built)."""
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if not isinstance(value, Section):
            _check_value(f, value, _join(section.PATH, f.name))
    if isinstance(section, VariantSection):
        name = getattr(section, section.KEY)
        schema = section.family().schema(name)
        if type(section) is not schema:  # a variant's key changed after it was built: its keys are another's
            raise ConfigError(
                f"config key '{_join(section.PATH, section.KEY)}' was set to '{name}' in a section built as "
                f"{section.variant()}: build it again, {section.base().__name__}({section.KEY}='{name}', ...)."
            )
    section.check()


def validate(config: Config) -> None:
    """Check every section of a config again (after a change, e.g. train.epochs on resume), then between them."""

    def walk(section: Section) -> None:
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            if isinstance(value, Section):
                walk(value)
        check_section(section)

    walk(config)


# ---------------------------------------------------------------------------------------------------------
# Building sections from plain dicts, with errors that name the key.


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp)).replace("typing.", "")


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Check `value` against the annotation `tp`; ints are accepted where floats are expected."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except ConfigError:
                pass
        raise ConfigError(f"config key '{key}' must be {' or '.join(_type_name(a) for a in args)}, got {value!r}.")
    if origin is dict:
        key_tp, value_tp = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"config key '{key}' must be a mapping (e.g. {{age: real}}), got {value!r}.")
        return {_coerce(k, key_tp, key): _coerce(v, value_tp, f"{key}.{k}") for k, v in value.items()}
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key '{key}' must be a list (e.g. [512, 256]), got {value!r}.")
        return [_coerce(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value)]
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tp in (str, bool) and isinstance(value, tp):
        return value
    raise ConfigError(f"config key '{key}' must be {_type_name(tp)}, got {value!r} ({type(value).__name__}).")


_MODES = ("refuse", "defaults", "drop")  # what a layer's unused keys get, strictest first (module docstring)


@dataclass
class _Parse:
    mode_of: Callable[[str], str]  # dotted key -> its layer's mode
    unused: list[str] = field(default_factory=list)  # one message per section with unused keys


def _is_family_base(cls: type) -> bool:
    return isinstance(cls, type) and issubclass(cls, VariantSection) and cls.__dict__.get("FAMILY") is not None


def _variants(cls: type) -> list[type]:
    """The schemas a section of type `cls` may be: a family's variants, or `cls` itself."""
    if _is_family_base(cls):
        family = cls.family()
        return [family.schema(name) for name in family.schema_names()]
    return [cls]


def _field(schema: type, key: str) -> dataclasses.Field | None:
    return next((f for f in dataclasses.fields(schema) if f.name == key), None)


def _takers(cls: type, key: str) -> list[type]:
    """The variants of the family of `cls` that take `key`."""
    if not issubclass(cls, VariantSection):
        return []
    return [s for s in _variants(cls.base()) if _field(s, key) is not None]


def _value(tp: Any, value: Any, key: str, parse: _Parse) -> Any:
    if isinstance(tp, type) and issubclass(tp, Section):
        return value if isinstance(value, Section) else _build(tp, value, key, parse, top=False)
    return _coerce(value, tp, key)


def _leaves(tree: dict) -> list[str]:
    """The dotted keys of the values in a nested dict."""
    keys: list[str] = []
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            keys.extend(f"{key}.{leaf}" for leaf in _leaves(value))
        else:
            keys.append(str(key))
    return keys


def _or(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _not_used(schema: type[VariantSection], path: str, keys: list[str], by: str | None = None) -> str:
    """The refusal of `keys`: "config key 'objective.gamma' is not used by objective.name=elbo. objective elbo takes:
    beta, ... Did you mean objective.name=capacity (which takes gamma)? Otherwise remove it."."""
    choice = _join(path, schema.KEY)
    quoted = ", ".join(f"'{_join(path, k)}'" for k in keys)
    subject = f"config key {quoted} is" if len(keys) == 1 else f"config keys {quoted} are"
    kind, name, takes = schema.family().kind, schema.variant(), schema.keys()
    listing = f"{kind} {name} takes: {', '.join(takes)}." if takes else f"{kind} {name} takes no other key."
    if by is not None:  # the variant was not chosen by a key but found (data.kind=auto): no other to suggest
        return f"{subject} not used by {by}. {listing} Remove {'it' if len(keys) == 1 else 'them'}."
    by_takers: dict[tuple[str, ...], list[str]] = {}
    for key in keys:
        by_takers.setdefault(tuple(s.variant() for s in _takers(schema, key.split(".")[0])), []).append(key)
    hints = [
        f"{choice}={_or(list(takers))} (which take{'s' if len(takers) == 1 else ''} {', '.join(group)})"
        for takers, group in by_takers.items()
    ]
    return (
        f"{subject} not used by {choice}={name}. {listing} Did you mean {' or '.join(hints)}? "
        f"Otherwise remove {'it' if len(keys) == 1 else 'them'}."
    )


def _checked_by_a_taker(takers: list[type], key: str, value: Any, full: str, parse: _Parse) -> tuple[Any, Any]:
    """(field, checked value) of the first variant taking `key` whose rules accept `value` (learn_sigma=per_column
    is the columns likelihood's, not the gaussian's); the first variant's error when none does."""
    first: ConfigError | None = None
    for taker in takers:
        taker_field = _field(taker, key)
        try:
            checked = _value(typing.get_type_hints(taker)[key], value, full, parse)
            if not isinstance(checked, Section):
                _check_value(taker_field, checked, full)
            return taker_field, checked
        except ConfigError as err:
            first = first or err
    raise first


def _build(cls: type, raw: Any, path: str, parse: _Parse, top: bool = True) -> Any:
    """The section `cls` at `path` from a dict of its keys: for a family, the variant its key names.

    A key the variant does not take is checked by the rules of a variant that does (so a bad value is named as
    such), then refused, left out, or left out with a warning, as the key's layer says (`parse.mode_of`).
    """
    if not isinstance(raw, dict):
        where = f"'{path}'" if path else "the config"
        raise ConfigError(f"{where} must be a mapping of keys to values, got {raw!r}.")
    schema = cls
    if _is_family_base(cls):
        name = _coerce(raw[cls.KEY], str, _join(path, cls.KEY)) if cls.KEY in raw else cls.variant()
        schema = cls.family().schema(name)
    hints = typing.get_type_hints(schema)
    kwargs: dict[str, Any] = {}
    unused: list[str] = []
    for key, value in raw.items():
        full = _join(path, str(key))
        own = _field(schema, key) if isinstance(key, str) else None
        if own is not None:
            kwargs[key] = _value(hints[key], value, full, parse)
            continue
        takers = _takers(schema, key) if isinstance(key, str) else []
        if not takers:
            known = sorted({f.name for s in _variants(cls) for f in dataclasses.fields(s)})
            names = [f.name for f in dataclasses.fields(schema)]
            chosen = f" ({_join(path, schema.KEY)}={schema.variant()})" if issubclass(schema, VariantSection) else ""
            raise ConfigError(
                f"unknown config key '{full}'.{_did_you_mean(str(key), known, _join(path, ''))} "
                f"Valid keys{' under ' + path if path else ''}{chosen}: {', '.join(names)}."
            )
        taker_field, checked = _checked_by_a_taker(takers, key, value, full, parse)
        mode = parse.mode_of(full)
        is_default = checked == _default(taker_field)
        if mode == "drop" and not is_default:
            warnings.warn(
                f"config key '{full}' ({value!r}) is not used by {_join(path, schema.KEY)}={schema.variant()}: "
                "the run was trained without it, and it is left out.",
                stacklevel=2,
            )
        if mode == "drop" or (mode == "defaults" and is_default):
            continue
        # a section a variant does not take is named by the keys given in it: 'model.vq.num_codes', not 'model.vq'
        if isinstance(checked, Section) and isinstance(value, dict) and value:
            unused.extend(f"{key}.{leaf}" for leaf in _leaves(value))
        else:
            unused.append(key)
    if unused:
        parse.unused.append(_not_used(schema, path, unused))
    if top and parse.unused:  # before the checks between sections, which would hide the keys the user gave
        raise ConfigError(" ".join(parse.unused))
    return schema(**kwargs)


# ---------------------------------------------------------------------------------------------------------
# Layers: dotted keys, merged in order; a layer that chooses another variant drops the earlier keys it does not take.


def _sections(root: type, path: str) -> dict[str, type]:
    """Dotted path -> section type (a family's base) of every section any variant below `root` has."""
    found: dict[str, type] = {}
    for schema in _variants(root):
        hints = typing.get_type_hints(schema)
        for f in dataclasses.fields(schema):
            tp = hints[f.name]
            if isinstance(tp, type) and issubclass(tp, Section) and _join(path, f.name) not in found:
                found[_join(path, f.name)] = tp
                found.update(_sections(tp, _join(path, f.name)))
    return found


def _flatten(tree: dict, path: str, sections: dict[str, type], mode: str, out: dict[str, tuple[Any, str]]) -> None:
    for key, value in tree.items():
        full = _join(path, str(key))
        if full in sections:
            if not isinstance(value, dict):
                raise ConfigError(f"'{full}' must be a mapping of keys to values, got {value!r}.")
            _flatten(value, full, sections, mode, out)
        else:
            out[full] = (value, mode)


def _resolve(layers: list[tuple[Any, str]], root: type | None = None, path: str = "") -> Any:
    """Merge (tree, mode) layers in order and build `root` (default Config) from the result."""
    root = root or Config
    sections = _sections(root, path)
    families = {p: cls for p, cls in [(path, root), *sections.items()] if _is_family_base(cls)}
    merged: dict[str, tuple[Any, str]] = {}
    for tree, mode in layers:
        if not isinstance(tree, dict):
            raise ConfigError(f"the config must be a mapping of keys to values, got {tree!r}.")
        flat: dict[str, tuple[Any, str]] = {}
        _flatten(tree, path, sections, mode, flat)
        for where, base in families.items():
            choice = _join(where, base.KEY)
            if choice not in flat:
                continue
            new, old = flat[choice][0], merged.get(choice, (base.variant(),))[0]
            if new == old or new not in base.family().schema_names():
                continue
            takes = {f.name for f in dataclasses.fields(base.family().schema(new))}
            prefix = _join(where, "")
            for key in [k for k in merged if k.startswith(prefix) and k[len(prefix) :].split(".")[0] not in takes]:
                del merged[key]
        merged.update(flat)
    tree: dict[str, Any] = {}
    for key, (value, _) in merged.items():
        _set_dotted(tree, key[len(_join(path, "")) :] if path else key, value)

    def mode_of(key: str) -> str:
        if key in merged:
            return merged[key][1]
        below = [m for k, (_, m) in merged.items() if k.startswith(key + ".")]
        return min(below, key=_MODES.index) if below else "refuse"

    return _build(root, tree, path, _Parse(mode_of))


def from_dict(cls: type, data: dict[str, Any], prefix: str = "", base: Any = None) -> Any:
    """Build section `cls` (e.g. Config) from `data` on top of `base` (default: the defaults), refusing unknown keys
    and keys its variants do not use."""
    layers = [] if base is None else [(dataclasses.asdict(base), "drop")]
    return _resolve([*layers, (data, "refuse")], cls, prefix.rstrip(".") or cls.PATH)


def check_data_keys(cfg: DataConfig, kind: str) -> None:
    """Refuse the keys of `cfg` that data of `kind` do not use, for data.kind=auto once the source is read.

    A key counts as given when its value is not its default. The ConfigError names the keys, the kind and the
    keys it takes, as the refusal of a key the chosen variant does not use does.
    """
    schema = DATA_KINDS.schema(kind)
    takes = {f.name for f in dataclasses.fields(schema)}
    given = [f.name for f in dataclasses.fields(cfg) if f.name not in takes and getattr(cfg, f.name) != _default(f)]
    if given:
        by = f"data of kind {kind} (data.kind={cfg.kind} read data '{cfg.source}' as {kind})"
        raise ConfigError(_not_used(schema, cfg.PATH, given, by=by))


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    node = tree
    *parents, leaf = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override '{dotted}': '{part}' is a value, not a section.")
    node[leaf] = value


_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def parse_override(text: str) -> tuple[str, Any]:
    """`train.lr=3e-4` -> ("train.lr", 0.0003); the value is read as YAML (numbers, lists, null, bools)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override '{text}' is not of the form key.sub=value (e.g. train.lr=3e-4).")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    # YAML 1.1 reads 1e-3 as a string (it wants 1.0e-3); accept the usual float spellings.
    if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        value = float(value)
    return key.strip(), value


# ---------------------------------------------------------------------------------------------------------
# Presets and files


def preset_names() -> list[str]:
    folder = resources.files("vaekit") / "presets"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def read_preset(name: str) -> dict[str, Any]:
    names = preset_names()
    if name not in names:
        raise ConfigError(f"unknown preset '{name}'.{_did_you_mean(name, names)} Presets: {', '.join(names)}.")
    text = (resources.files("vaekit") / "presets" / f"{name}.yaml").read_text()
    return yaml.safe_load(text) or {}


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file '{path}' does not exist. Give the path of a YAML config file.")
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file '{path}' is not valid YAML ({exc}). Fix the file and try again.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file '{path}' must hold a mapping (model:, train:, ...), not {type(data).__name__}.")
    return data


def load_config(
    path: str | Path | None = None,
    *,
    preset: str | None = None,
    overrides: typing.Iterable[str | tuple[str, Any]] | dict[str, Any] = (),
) -> Config:
    """Resolve defaults <- preset <- YAML file <- overrides into a validated Config.

    Overrides are `key.sub=value` strings or (key, value) pairs, applied in order.
    """
    layers: list[tuple[Any, str]] = []
    if preset is not None:
        layers.append((read_preset(preset), "refuse"))
    if path is not None:
        layers.append((read_yaml(path), "defaults"))
    items = overrides.items() if isinstance(overrides, dict) else overrides
    pairs = (parse_override(o) if isinstance(o, str) else o for o in items)
    tree: dict[str, Any] = {}
    for key, value in pairs:
        _set_dotted(tree, key, value)
    layers.append((tree, "refuse"))
    return _resolve(layers)


def config_from_dict(data: dict[str, Any]) -> Config:
    """The inverse of Config.to_dict, used to rebuild a run's config: keys its variants do not take (every config.yaml
    written before the variants had schemas holds every key) are left out, with a warning unless at their default."""
    return _resolve([(data, "drop")])
