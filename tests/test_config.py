"""Config layering, dotted overrides, and errors that name the bad key."""

import pytest

from vaekit.config import Config, config_from_dict, load_config, parse_override, preset_names
from vaekit.errors import ConfigError


def test_overrides_beat_presets_and_are_typed():
    cfg = load_config(preset="seed-mnist", overrides=["train.lr=3e-4", "model.network.hidden=[256, 128]"])
    assert cfg.train.lr == 3e-4 and cfg.train.batch_size == 64
    assert cfg.model.network.hidden == [256, 128]


def test_yaml_file_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  epochs: 3\n  lr: 0.01\n")
    cfg = load_config(path, preset="quickstart", overrides=[("train.lr", 0.5)])
    assert (cfg.train.epochs, cfg.train.lr, cfg.data.source) == (3, 0.5, "digits")


def test_round_trip_through_dict():
    cfg = load_config(preset="pytorch-example")
    assert config_from_dict(cfg.to_dict()) == cfg


def test_parse_override_reads_yaml_values():
    assert parse_override("train.lr=1e-3") == ("train.lr", 1e-3)
    assert parse_override("data.data_dir=null") == ("data.data_dir", None)
    assert parse_override("train.progress=false") == ("train.progress", False)


@pytest.mark.parametrize(
    "override, words",
    [
        ("train.lrr=1", ["train.lrr", "train.lr"]),
        ("modle.latent_dim=2", ["modle", "model"]),
        ("train.epochs=ten", ["train.epochs", "int"]),
        ("data.binarize=dynamik", ["dynamic"]),
        ("model.latent_dim=0", ["latent_dim", "positive"]),
        ("train=3", ["train"]),
        ("nonsense", ["key.sub=value"]),
    ],
)
def test_bad_overrides_name_the_key(override, words):
    with pytest.raises(ConfigError) as err:
        load_config(overrides=[override])
    for word in words:
        assert word in str(err.value)


def test_unknown_preset_lists_the_presets():
    with pytest.raises(ConfigError, match="seed-mnist"):
        load_config(preset="seed-minst")
    assert {"seed-mnist", "pytorch-example", "quickstart"} <= set(preset_names())


def test_presets_match_their_papers():
    seed = load_config(preset="seed-mnist")
    assert (seed.train.batch_size, seed.model.latent_dim, seed.model.network.hidden) == (64, 20, [512])
    example = load_config(preset="pytorch-example")
    assert (example.train.batch_size, example.model.network.hidden, example.data.binarize) == (
        128,
        [400],
        "none",
    )
    assert Config().objective.beta == 1.0 and Config().objective.num_samples == 1
