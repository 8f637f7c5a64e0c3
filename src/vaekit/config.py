"""The validated config tree (model / objective / data / train / eval), YAML I/O and dotted overrides.

A config is built in layers, later ones winning: defaults <- preset <- CONFIG.yaml <- command-line flags <-
`key.sub=value` overrides. Every layer is checked against the dataclasses below, so an unknown key or a
value of the wrong type is an error that names the key and the valid choices.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vaekit.errors import ConfigError


@dataclass
class NetworkConfig:
    """Encoder/decoder body; the decoder mirrors the encoder."""

    type: str = "mlp"  # mlp | conv
    hidden: list[int] = field(default_factory=lambda: [512])  # mlp: hidden widths, input side first
    channels: list[int] = field(default_factory=lambda: [32, 64])  # conv: channels per stride-2 stage
    activation: str = "relu"  # relu | tanh | elu | leaky_relu | gelu | silu


@dataclass
class LikelihoodConfig:
    """p(x|z): `bernoulli` (logits), `gaussian` (a density), or a discretized likelihood over the pixels' `levels`
    values (docs/likelihood.md says which to use for which data)."""

    type: str = "bernoulli"  # bernoulli | gaussian | discretized_logistic | discretized_gaussian | columns (tables)
    sigma: float = 1.0  # gaussian, discretized_gaussian: the fixed standard deviation, or the initial one when learned
    # gaussian, discretized_gaussian: none | shared | per_pixel | decoder (a function of z); columns (tables): none |
    # shared | per_column | decoder, the real columns' standard deviations
    learn_sigma: str = "none"
    components: int = 5  # discretized_logistic: K, logistics in each pixel's mixture (PixelCNN++: 10)
    levels: int = 0  # values a pixel takes (256: 8-bit); 0: from the training data, and stays 0 for continuous data
    count: str = "poisson"  # columns (tables): the count columns' distribution, poisson | negative_binomial


@dataclass
class VQConfig:
    """model.type=vqvae: residual conv encoder/decoder around a codebook of num_codes vectors."""

    num_codes: int = 512  # K, the codebook size
    embedding_dim: int = 64  # D, the size of each codebook vector
    hidden_channels: int = 128  # channels of the encoder's and decoder's residual stacks
    num_residual_blocks: int = 2
    ema: bool = True  # learn the codebook by exponential moving averages instead of its loss term
    decay: float = 0.99  # the EMA decay of the codebook and of the code usage statistics


@dataclass
class LatentPriorConfig:
    """p(z) of a VAE (of the top layer of a hierarchical one): N(0, I), or a VampPrior (Tomczak & Welling 2018)."""

    type: str = "standard_normal"  # standard_normal | vamp
    components: int = 500  # vamp: K, the number of learned pseudo-inputs
    pseudo_inputs_mean: float = 0.05  # vamp: pseudo-inputs start as N(mean, std^2) values, clipped to [0, 1]
    pseudo_inputs_std: float = 0.01


@dataclass
class HierarchyConfig:
    """model.type=hvae: stochastic layers above the bottom one (whose size is model.latent_dim)."""

    upper_dims: list[int] = field(default_factory=lambda: [50])  # sizes of layers 2..L, bottom to top
    hidden: list[int] = field(default_factory=lambda: [100, 100])  # MLP widths between consecutive layers


@dataclass
class ModelConfig:
    type: str = "vae"  # vae | hvae | cvae | vqvae
    latent_dim: int = 20  # hvae: the bottom layer z_1, the one the decoder reads
    network: NetworkConfig = field(default_factory=NetworkConfig)
    likelihood: LikelihoodConfig = field(default_factory=LikelihoodConfig)
    prior: LatentPriorConfig = field(default_factory=LatentPriorConfig)
    hierarchy: HierarchyConfig = field(default_factory=HierarchyConfig)
    num_classes: int = 0  # cvae: the number of label classes (0: taken from the training labels)
    vq: VQConfig = field(default_factory=VQConfig)


@dataclass
class ObjectiveConfig:
    name: str = "elbo"
    beta: float = 1.0  # weight on KL(q(z|x) || p(z))
    num_samples: int = 1  # elbo: Monte Carlo samples L of z per example; iwae: importance samples k
    warmup_steps: int = 0  # KL weight ramped linearly from 0 to beta over this many steps ...
    warmup_epochs: float = 0.0  # ... or epochs (the two add up)
    free_bits: float = 0.0  # lambda, in nats per group; 0 turns free bits off
    free_bits_group_size: int = 1  # latent dimensions per free-bits group (1: per dimension)
    gamma: float = 1000.0  # capacity: weight on |KL - C| (Burgess et al. 2018 use 1000 on dSprites)
    capacity_max: float = 25.0  # capacity: C_max, the KL target in nats that C rises to
    capacity_steps: int = 100_000  # capacity: C raised linearly from 0 to capacity_max over this many steps ...
    capacity_epochs: float = 0.0  # ... plus this many epochs
    commitment: float = 0.25  # vq: beta, the weight on the commitment loss ||z_e - sg[e]||^2
    revive_every: int = 0  # vq: re-seed dead codes from the batch every this many steps (0: never)
    revive_threshold: float = 1.0  # vq: a code is dead below this usage EMA (positions per batch)


@dataclass
class DataConfig:
    source: str = "digits"  # a built-in name (`vaekit datasets`) or a path
    kind: str = "auto"  # auto (from the source) | image | table
    data_dir: str | None = None  # where built-in data sets are looked for; default $VAEKIT_DATA or cache
    binarize: str = "none"  # none | static | dynamic
    test_fraction: float = 0.1  # hold-out fraction for sources without an official test split
    split_seed: int = 0  # seed of that hold-out split (fixed, so runs with other train.seed share a test set)
    download: bool = True
    # Load-time transforms, in this order (vaekit.data.transforms), recorded with the run and applied to any file
    # the run later encodes or evaluates:
    grayscale: bool = False  # RGB -> luma
    resize: int | list[int] | None = None  # S: the shorter side becomes S (aspect kept); [H, W]: exactly
    center_crop: int | list[int] | None = None  # S or [H, W]: the central window (after the resize)
    invert: bool = False  # v -> max - v: dark ink on white paper becomes bright ink on black, as in MNIST
    # Data larger than memory: read training batches from a uint8 cache on disk, built once (vaekit.data.stream)
    stream: bool = False
    cache_dir: str | None = None  # where that cache goes; default <data_dir>/cache
    # Tables (CSV/TSV, Parquet, (N, D) arrays; vaekit.data.tables): column types are inferred, these override them
    columns: dict[str, str] = field(default_factory=dict)  # name -> real | count | binary | categorical
    drop: list[str] = field(default_factory=list)  # columns left out
    label: str | None = None  # the class column: a conditional VAE's labels, kept out of x


@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    lr_schedule: str = "constant"  # constant | iwae (Burda et al.'s 3^i passes at lr * 10^(-i/7))
    adam_betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    adam_eps: float = 1e-8
    seed: int = 0
    device: str = "cpu"  # cpu | cuda | auto (cuda when available); under torchrun, cuda:LOCAL_RANK
    precision: str = "fp32"  # fp32 | bf16 (autocast of the forward pass) | auto (bf16 where the hardware has it)
    compile: bool = False  # torch.compile the model and objective
    progress: bool = True  # a live progress bar when writing to a terminal
    num_sample_images: int = 64  # size of the sample grid written at the end of training


@dataclass
class PriorConfig:
    """The second stage of a VQ-VAE (`vaekit train-prior`): a gated PixelCNN over the training set's codes."""

    hidden_channels: int = 64
    num_layers: int = 8
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    lr_schedule: str = "constant"  # as train.lr_schedule


@dataclass
class EvalConfig:
    batch_size: int = 1000


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    prior: PriorConfig = field(default_factory=PriorConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


# ---------------------------------------------------------------------------------------------------------
# Validation: a plain dict -> dataclasses, with errors that name the key.


def _did_you_mean(name: str, choices: typing.Iterable[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" Did you mean '{prefix}{close[0]}'?" if close else ""


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


def from_dict(cls: type, data: dict[str, Any], prefix: str = "", base: Any = None) -> Any:
    """Build dataclass `cls` from `data` on top of `base` (default: cls()), rejecting unknown keys."""
    if not isinstance(data, dict):
        where = f"'{prefix}'" if prefix else "the config"
        raise ConfigError(f"{where} must be a mapping of keys to values, got {data!r}.")
    obj = base if base is not None else cls()
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key, value in data.items():
        full = f"{prefix}{key}"
        if key not in names:
            raise ConfigError(
                f"unknown config key '{full}'.{_did_you_mean(str(key), names, prefix)} "
                f"Valid keys{' under ' + prefix.rstrip('.') if prefix else ''}: {', '.join(names)}."
            )
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            setattr(obj, key, from_dict(tp, value, f"{full}.", getattr(obj, key)))
        else:
            setattr(obj, key, _coerce(value, tp, full))
    return obj


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
    config = Config()
    if preset is not None:
        config = from_dict(Config, read_preset(preset), base=config)
    if path is not None:
        config = from_dict(Config, read_yaml(path), base=config)
    items = overrides.items() if isinstance(overrides, dict) else overrides
    pairs = (parse_override(o) if isinstance(o, str) else o for o in items)
    tree: dict[str, Any] = {}
    for key, value in pairs:
        _set_dotted(tree, key, value)
    config = from_dict(Config, tree, base=config)
    validate(config)
    return config


def config_from_dict(data: dict[str, Any]) -> Config:
    """The inverse of Config.to_dict (used to rebuild a run's config)."""
    config = from_dict(Config, data)
    validate(config)
    return config


_CHOICES = {
    "model.network.activation": ("relu", "tanh", "elu", "leaky_relu", "gelu", "silu"),
    "model.likelihood.learn_sigma": ("none", "shared", "per_pixel", "per_column", "decoder"),
    "model.likelihood.count": ("poisson", "negative_binomial"),
    "data.kind": ("auto", "image", "table"),
    "model.prior.type": ("standard_normal", "vamp"),
    "data.binarize": ("none", "static", "dynamic"),
    "train.device": ("cpu", "cuda", "auto"),
    "train.precision": ("fp32", "bf16", "auto"),
}


MAX_SEED = 2**63 - 1  # seeds feed numpy's SeedSequence and torch generators: non-negative 63-bit integers
MAX_SIDE = 2**16  # image sides and channel counts (data.resize, data.center_crop, a run's data shape)
MAX_WIDTH = 2**16  # latent sizes, hidden widths, channels, codebook sizes: larger ones cannot be allocated sensibly


def _leaves(tree: dict[str, Any], prefix: str = ""):
    """(dotted key, value) of every leaf of a nested dict, list items included."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield f"{prefix}{key}[{i}]", item
        else:
            yield f"{prefix}{key}", value


def _validate_ranges(config: Config, tree: dict[str, Any]) -> None:
    """Finite numbers, seeds, Adam's constants and sizes that can be allocated, each error naming its key."""
    for key, value in _leaves(tree):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"config key '{key}' must be a finite number, got {value}.")
    for key, seed in (("train.seed", config.train.seed), ("data.split_seed", config.data.split_seed)):
        if not 0 <= seed <= MAX_SEED:
            raise ConfigError(f"config key '{key}' must be an integer from 0 to 2^63 - 1, got {seed}.")
    betas = config.train.adam_betas
    if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
        raise ConfigError(
            f"config key 'train.adam_betas' must be two numbers in [0, 1), e.g. [0.9, 0.999]; got {betas}."
        )
    if config.train.adam_eps < 0:
        raise ConfigError(f"config key 'train.adam_eps' must be >= 0, got {config.train.adam_eps}.")
    if config.train.num_sample_images < 1:
        raise ConfigError(
            f"config key 'train.num_sample_images' must be at least 1, got {config.train.num_sample_images}."
        )
    model = config.model
    sizes = {
        "model.latent_dim": [model.latent_dim],
        "model.network.hidden": model.network.hidden,
        "model.network.channels": model.network.channels,
        "model.hierarchy.upper_dims": model.hierarchy.upper_dims,
        "model.hierarchy.hidden": model.hierarchy.hidden,
        "model.prior.components": [model.prior.components],
        "model.num_classes": [model.num_classes],
        "model.vq.num_codes": [model.vq.num_codes],
        "model.vq.embedding_dim": [model.vq.embedding_dim],
        "model.vq.hidden_channels": [model.vq.hidden_channels],
    }
    for key, values in sizes.items():
        if any(v > MAX_WIDTH for v in values):
            raise ConfigError(f"config key '{key}' holds a size above {MAX_WIDTH} ({values}); use a smaller one.")


def validate(config: Config) -> None:
    """Value checks that types alone do not express; registry names are checked by the registries."""
    tree = config.to_dict()
    _validate_ranges(config, tree)
    for dotted, choices in _CHOICES.items():
        value: Any = tree
        for part in dotted.split("."):
            value = value[part]
        if value not in choices:
            raise ConfigError(
                f"config key '{dotted}' is '{value}'.{_did_you_mean(str(value), choices)} "
                f"Choose one of: {', '.join(choices)}."
            )
    positive = {
        "model.latent_dim": config.model.latent_dim,
        "objective.num_samples": config.objective.num_samples,
        "train.batch_size": config.train.batch_size,
        "eval.batch_size": config.eval.batch_size,
        "train.lr": config.train.lr,
        "model.likelihood.sigma": config.model.likelihood.sigma,
    }
    for key, value in positive.items():
        if value <= 0:
            raise ConfigError(f"config key '{key}' must be positive, got {value}.")
    if config.train.epochs < 1:
        raise ConfigError(f"config key 'train.epochs' (--epochs) must be at least 1, got {config.train.epochs}.")
    if config.objective.beta < 0:
        raise ConfigError(f"config key 'objective.beta' must be >= 0, got {config.objective.beta}.")
    if config.objective.warmup_steps < 0 or config.objective.warmup_epochs < 0:
        raise ConfigError("config keys 'objective.warmup_steps' and 'objective.warmup_epochs' must be >= 0.")
    group = config.objective.free_bits_group_size
    if group <= 0 or config.model.latent_dim % group:
        raise ConfigError(
            f"config key 'objective.free_bits_group_size' ({group}) must be a positive divisor of "
            f"model.latent_dim ({config.model.latent_dim})."
        )
    if not 0.0 < config.data.test_fraction < 1.0:
        raise ConfigError(f"config key 'data.test_fraction' must be in (0, 1), got {config.data.test_fraction}.")
    for key in ("resize", "center_crop"):
        value = getattr(config.data, key)
        sides = [value] if isinstance(value, int) else value or []
        if value is not None and (len(sides) not in (1, 2) or not all(0 < v <= MAX_SIDE for v in sides)):
            raise ConfigError(
                f"config key 'data.{key}' must be a side S or [H, W] with sides from 1 to {MAX_SIDE}, got {value}."
            )
    if any(h <= 0 for h in config.model.network.hidden + config.model.network.channels):
        raise ConfigError("config keys 'model.network.hidden' and 'model.network.channels' must be positive sizes.")
    _validate_latent_structure(config)
    _validate_vq(config)


def _validate_latent_structure(config: Config) -> None:
    """model.prior, model.hierarchy and model.num_classes."""
    model = config.model
    if model.prior.components <= 0 or model.prior.pseudo_inputs_std < 0:
        raise ConfigError(
            "config keys 'model.prior.components' must be positive and 'model.prior.pseudo_inputs_std' >= 0, got "
            f"{model.prior.components} and {model.prior.pseudo_inputs_std}."
        )
    if any(d <= 0 for d in model.hierarchy.upper_dims + model.hierarchy.hidden):
        raise ConfigError(
            "config keys 'model.hierarchy.upper_dims' and 'model.hierarchy.hidden' must be positive sizes."
        )
    if model.num_classes < 0:
        raise ConfigError(f"config key 'model.num_classes' must be >= 0, got {model.num_classes}.")


def _validate_vq(config: Config) -> None:
    """The VQ-VAE's sections: model.vq, the objective's vq keys, and prior (the second stage)."""
    vq, objective, prior = config.model.vq, config.objective, config.prior
    positive = {
        "model.vq.num_codes": vq.num_codes,
        "model.vq.embedding_dim": vq.embedding_dim,
        "model.vq.hidden_channels": vq.hidden_channels,
        "prior.hidden_channels": prior.hidden_channels,
        "prior.num_layers": prior.num_layers,
        "prior.batch_size": prior.batch_size,
        "prior.lr": prior.lr,
        "prior.epochs": prior.epochs,
    }
    for key, value in positive.items():
        if value <= 0:
            raise ConfigError(f"config key '{key}' must be positive, got {value}.")
    non_negative = {
        "model.vq.num_residual_blocks": vq.num_residual_blocks,
        "objective.commitment": objective.commitment,
        "objective.revive_every": objective.revive_every,
        "objective.revive_threshold": objective.revive_threshold,
    }
    for key, value in non_negative.items():
        if value < 0:
            raise ConfigError(f"config key '{key}' must be >= 0, got {value}.")
    if not 0.0 < vq.decay < 1.0:
        raise ConfigError(f"config key 'model.vq.decay' must be in (0, 1), got {vq.decay}.")
    if (config.model.type == "vqvae") != (objective.name == "vq"):
        raise ConfigError(
            f"model.type={config.model.type} cannot train with objective.name={objective.name}: a VQ-VAE trains "
            "with objective.name=vq, and objective vq needs model.type=vqvae. Set both or neither."
        )
