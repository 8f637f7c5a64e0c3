"""Typed configuration per variant: a key the chosen variant does not use is refused, naming the variant, the keys
it takes and the variants that take the key; presets, old runs' config.yaml files and new runs still load."""

import copy
import dataclasses
import warnings

import pytest
import yaml

from tiny_configs import TINY_VAE_RUN
from vaekit.cli.main import main
from vaekit.config import (
    Config,
    DataConfig,
    LikelihoodConfig,
    ModelConfig,
    ObjectiveConfig,
    VariantSection,
    check_data_keys,
    config_from_dict,
    load_config,
    preset_names,
    validate,
)
from vaekit.errors import ConfigError
from vaekit.registry import DATA_KINDS, LIKELIHOODS, MODELS, OBJECTIVES, PRIORS
from vaekit.run import read_config

# (overrides, the key refused, the variant that refuses it, keys it takes, the suggested variant)
UNUSED = [
    (["objective.gamma=5"], "objective.gamma", "objective.name=elbo", "beta, num_samples", "objective.name=capacity"),
    (["objective.name=iwae", "objective.beta=4"], "objective.beta", "objective.name=iwae", "num_samples", "elbo"),
    (
        ["objective.name=vq", "model.type=vqvae", "objective.free_bits=1"],
        "objective.free_bits",
        "name=vq",
        "commitment",
        "elbo",
    ),
    (
        ["objective.name=beta_tcvae", "objective.warmup_steps=5"],
        "objective.warmup_steps",
        "name=beta_tcvae",
        "beta",
        "elbo",
    ),
    (["model.likelihood.sigma=0.5"], "model.likelihood.sigma", "type=bernoulli", "levels", "gaussian"),
    (
        ["model.likelihood.type=gaussian", "model.likelihood.components=3"],
        "model.likelihood.components",
        "type=gaussian",
        "sigma, learn_sigma",
        "discretized_logistic",
    ),
    (["model.likelihood.count=negative_binomial"], "model.likelihood.count", "type=bernoulli", "levels", "columns"),
    (
        ["model.prior.pseudo_inputs_std=0.1"],
        "model.prior.pseudo_inputs_std",
        "model.prior.type=standard_normal",
        "no other key",
        "vamp",
    ),
    (["model.hierarchy.upper_dims=[8]"], "model.hierarchy.upper_dims", "model.type=vae", "latent_dim, network", "hvae"),
    (["model.type=hvae", "model.num_classes=3"], "model.num_classes", "model.type=hvae", "hierarchy", "cvae"),
    (
        ["model.type=vqvae", "objective.name=vq", "model.latent_dim=4"],
        "model.latent_dim",
        "model.type=vqvae",
        "likelihood, vq",
        "vae",
    ),
    (["model.vq.num_codes=7"], "model.vq.num_codes", "model.type=vae", "prior", "vqvae"),
    (["data.kind=table", "data.binarize=dynamic"], "data.binarize", "data.kind=table", "columns, drop, label", "image"),
    (["data.kind=image", "data.label=y"], "data.label", "data.kind=image", "binarize, grayscale", "table"),
]


@pytest.mark.parametrize(("overrides", "key", "variant", "takes", "suggestion"), UNUSED, ids=[u[1] for u in UNUSED])
def test_a_key_the_chosen_variant_does_not_use_is_refused(overrides, key, variant, takes, suggestion):
    with pytest.raises(ConfigError) as err:
        load_config(overrides=overrides)
    message = str(err.value)
    assert f"'{key}' is not used by" in message and variant in message
    assert takes in message and "Did you mean" in message and suggestion in message


def test_the_issue_example_fails_and_names_every_unused_key(capsys, tmp_path):
    args = ["train", "--preset", "quickstart", "--out", tmp_path / "run"]
    code = main([str(a) for a in [*args, "objective.gamma=5", "objective.commitment=3", "model.vq.num_codes=7"]])
    err = capsys.readouterr().err
    assert code == 2 and not (tmp_path / "run").exists()
    for words in ("'objective.gamma'", "'objective.commitment'", "'model.vq.num_codes'", "objective.name=elbo"):
        assert words in err
    assert "objective.name=capacity (which takes gamma)" in err and "objective.name=vq (which takes commitment)" in err


def test_a_typo_of_a_key_the_variant_takes_suggests_that_key():
    with pytest.raises(ConfigError, match=r"Did you mean 'model\.likelihood\.sigma'.*gaussian"):
        load_config(overrides=["model.likelihood.type=gaussian", "model.likelihood.sigmaa=0.5"])


def test_a_bad_value_of_an_unused_key_is_named_as_a_bad_value_first():
    with pytest.raises(ConfigError, match="'model.prior.components' must be positive"):
        load_config(overrides=["model.prior.components=-3"])


def test_the_variant_takes_the_keys_it_uses():
    cfg = load_config(overrides=["objective.name=capacity", "objective.gamma=5", "model.type=hvae"])
    assert cfg.objective.gamma == 5.0 and cfg.model.hierarchy.upper_dims == [50]
    assert not hasattr(cfg.objective, "beta") and not hasattr(cfg.model, "num_classes")


def test_a_later_layer_that_chooses_another_variant_drops_the_earlier_keys_it_does_not_take():
    """shapes-beta-vae sets objective.beta=4; its comment's capacity command chooses capacity over it."""
    cfg = load_config(preset="shapes-beta-vae", overrides=["objective.name=capacity", "objective.gamma=1000"])
    assert cfg.objective.name == "capacity" and cfg.objective.gamma == 1000.0
    iwae = load_config(preset="iwae-paper", overrides=["objective.name=iwae", "objective.num_samples=50"])
    assert iwae.objective.num_samples == 50  # a key both variants take is kept
    with pytest.raises(ConfigError, match="objective.beta"):  # but not one given in the same layer
        load_config(preset="shapes-beta-vae", overrides=["objective.name=capacity", "objective.beta=4"])


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_loads_and_round_trips_with_its_variants_keys_only(name):
    cfg = load_config(preset=name)
    assert config_from_dict(yaml.safe_load(cfg.to_yaml())) == cfg
    for section in (cfg.model, cfg.model.likelihood, cfg.objective, cfg.data):
        schema = section.family().schema(getattr(section, section.KEY))
        assert type(section) is schema
        assert set(dataclasses.asdict(section)) == {f.name for f in dataclasses.fields(schema)}


@pytest.mark.parametrize(
    "registry", [MODELS, LIKELIHOODS, PRIORS, OBJECTIVES], ids=["models", "likelihoods", "priors", "objectives"]
)
def test_every_registry_entry_has_the_schema_of_its_name(registry):
    import vaekit.models  # noqa: F401  (registers the builders)
    import vaekit.objectives  # noqa: F401

    for name in registry.names():
        schema = registry.schema(name)
        assert issubclass(schema, VariantSection) and schema.variant() == name


def test_building_a_section_in_python_gives_its_variant_and_the_same_refusals():
    assert type(ObjectiveConfig(name="iwae", num_samples=5)).__name__ == "IwaeConfig"
    assert ModelConfig(type="vae", num_classes=0).type == "vae"  # a key at its default changes nothing
    with pytest.raises(ConfigError, match="'model.likelihood.sigma' is not used by model.likelihood.type=bernoulli"):
        LikelihoodConfig(type="bernoulli", sigma=2.0)


def test_choosing_another_variant_on_a_built_section_makes_it_that_variant():
    cfg = ModelConfig()
    cfg.likelihood.levels = 256
    cfg.likelihood.type = "gaussian"
    assert (cfg.likelihood.sigma, cfg.likelihood.levels) == (1.0, 256)  # the new keys' defaults; levels kept
    cfg.likelihood.type = "bernoulli"
    assert not hasattr(cfg.likelihood, "sigma")
    cfg.likelihood.sigma = 1.0  # its default: a no-op, as in a config file
    with pytest.raises(ConfigError, match="is not used by model.likelihood.type=bernoulli"):
        cfg.likelihood.sigma = 2.0
    with pytest.raises(ConfigError, match="unknown likelihood 'gausian'.*Did you mean 'gaussian'"):
        cfg.likelihood.type = "gausian"


def test_check_data_keys_refuses_keys_the_resolved_kind_does_not_use():
    cfg = load_config(overrides=["data.binarize=dynamic", "data.resize=16"]).data
    assert cfg.kind == "auto"  # the kind is not known yet: every kind's keys are taken
    check_data_keys(cfg, "image")
    with pytest.raises(ConfigError) as err:
        check_data_keys(cfg, "table")
    message = str(err.value)
    assert "'data.binarize', 'data.resize' are not used by data of kind table" in message
    assert "columns, drop, label" in message and "data.binarize" in message
    check_data_keys(load_config().data, "table")  # keys at their defaults are not given
    assert isinstance(cfg, DataConfig) and DATA_KINDS.schema_names() == ["image", "table", "sequence", "auto"]


# What Config().to_dict() wrote into every run's config.yaml before the variants had schemas (commit 42c6840): every
# key of every variant, at its default.
OLD_DEFAULTS = yaml.safe_load(
    """
model:
  type: vae
  latent_dim: 20
  network: {type: mlp, hidden: [512], channels: [32, 64], activation: relu}
  likelihood: {type: bernoulli, sigma: 1.0, learn_sigma: none, components: 5, levels: 0, count: poisson}
  prior: {type: standard_normal, components: 500, pseudo_inputs_mean: 0.05, pseudo_inputs_std: 0.01}
  hierarchy: {upper_dims: [50], hidden: [100, 100]}
  num_classes: 0
  vq: {num_codes: 512, embedding_dim: 64, hidden_channels: 128, num_residual_blocks: 2, ema: true, decay: 0.99}
objective: {name: elbo, beta: 1.0, num_samples: 1, warmup_steps: 0, warmup_epochs: 0.0, free_bits: 0.0,
  free_bits_group_size: 1, gamma: 1000.0, capacity_max: 25.0, capacity_steps: 100000, capacity_epochs: 0.0,
  commitment: 0.25, revive_every: 0, revive_threshold: 1.0}
data: {source: digits, kind: auto, data_dir: null, binarize: none, test_fraction: 0.1, split_seed: 0, download: true,
  grayscale: false, resize: null, center_crop: null, invert: false, stream: false, cache_dir: null, columns: {},
  drop: [], label: null}
train: {epochs: 10, batch_size: 64, lr: 0.001, lr_schedule: constant, adam_betas: [0.9, 0.999], adam_eps: 1.0e-08,
  seed: 0, device: cpu, precision: fp32, compile: false, progress: true, num_sample_images: 64}
eval: {batch_size: 1000}
prior: {hidden_channels: 64, num_layers: 8, epochs: 10, batch_size: 64, lr: 0.001, lr_schedule: constant}
"""
)


def old_run(tmp_path, changes: dict, drop_newer_keys: bool = False):
    """A run directory whose config.yaml is an old full dump with `changes` ({"objective.name": "vq", ...})."""
    data = copy.deepcopy(OLD_DEFAULTS)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        node[leaf] = value
    if drop_newer_keys:  # runs written before data.kind and the table keys existed
        for key in ("kind", "columns", "drop", "label"):
            del data["data"][key]
        del data["model"]["likelihood"]["count"]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return tmp_path


@pytest.mark.parametrize(
    "changes, overrides",
    [
        ({}, []),
        (
            {"model.likelihood.levels": 256, "model.latent_dim": 8},
            ["model.likelihood.levels=256", "model.latent_dim=8"],
        ),
        ({"model.type": "hvae", "model.prior.type": "vamp"}, ["model.type=hvae", "model.prior.type=vamp"]),
        ({"model.type": "cvae", "model.num_classes": 10}, ["model.type=cvae", "model.num_classes=10"]),
        ({"model.type": "vqvae", "objective.name": "vq"}, ["model.type=vqvae", "objective.name=vq"]),
        ({"objective.name": "capacity", "objective.gamma": 10.0}, ["objective.name=capacity", "objective.gamma=10"]),
        (
            {"model.likelihood.type": "gaussian", "model.likelihood.learn_sigma": "per_pixel"},
            ["model.likelihood.type=gaussian", "model.likelihood.learn_sigma=per_pixel"],
        ),
    ],
)
@pytest.mark.parametrize("older", [False, True], ids=["42c6840", "before-tables"])
def test_an_old_runs_full_config_yaml_still_loads_as_its_variants(tmp_path, changes, overrides, older):
    path = old_run(tmp_path, changes, drop_newer_keys=older)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # keys at their defaults are left out without a word
        config = read_config(path)
    assert config == load_config(overrides=overrides)
    # and `vaekit train RUN/config.yaml` (the report's command to train a run again) takes the old file too
    assert load_config(path / "config.yaml") == config


def test_an_old_run_trained_with_an_ignored_key_loads_and_warns_about_it(tmp_path):
    path = old_run(tmp_path, {"objective.gamma": 5.0})
    with pytest.warns(UserWarning, match="objective.gamma.*not used by objective.name=elbo"):
        config = read_config(path)
    assert config == Config()
    with pytest.raises(ConfigError, match="'objective.gamma' is not used"):  # training it again says so
        load_config(path / "config.yaml")


def test_a_new_runs_config_yaml_holds_its_variants_keys_and_round_trips(tmp_path, tiny_images):
    from vaekit.workflow.training import train

    config = load_config(overrides=[f"data.source={tiny_images}", *TINY_VAE_RUN, "objective.warmup_steps=3"])
    train(config, tmp_path / "run")
    written = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert "gamma" not in written["objective"] and "vq" not in written["model"]
    assert "sigma" not in written["model"]["likelihood"] and written["model"]["likelihood"]["levels"] == 256
    reread = read_config(tmp_path / "run")
    assert reread == config and reread.to_yaml() == config.to_yaml()
    validate(reread)
