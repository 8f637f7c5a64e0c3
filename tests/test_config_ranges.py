"""Every config value that types alone let through but training cannot use is refused, naming its key."""

import pytest

from vaekit.config import load_config
from vaekit.errors import ConfigError

BAD = [
    ("train.lr=.nan", "train.lr", "finite"),
    ("train.lr=.inf", "train.lr", "finite"),
    ("objective.beta=.nan", "objective.beta", "finite"),
    ("model.likelihood.sigma=.inf", "model.likelihood.sigma", "finite"),
    ("train.adam_betas=[0.9, .nan]", "train.adam_betas[1]", "finite"),
    ("train.seed=-1", "train.seed", "2^63"),
    ("train.seed=9223372036854775808", "train.seed", "2^63"),
    ("data.split_seed=-5", "data.split_seed", "2^63"),
    ("train.adam_betas=[0.9]", "train.adam_betas", "two numbers"),
    ("train.adam_betas=[0.9, 0.999, 0.1]", "train.adam_betas", "two numbers"),
    ("train.adam_betas=[1.0, 0.999]", "train.adam_betas", "[0, 1)"),
    ("train.adam_betas=[-0.1, 0.999]", "train.adam_betas", "[0, 1)"),
    ("train.adam_eps=-1e-8", "train.adam_eps", ">= 0"),
    ("train.num_sample_images=-1", "train.num_sample_images", "at least 1"),
    ("train.num_sample_images=0", "train.num_sample_images", "at least 1"),
    ("model.latent_dim=100000000", "model.latent_dim", "size above"),
    ("model.network.hidden=[512, 10000000]", "model.network.hidden", "size above"),
    ("model.prior.components=0", "model.prior.components", "positive"),
    ("model.hierarchy.upper_dims=[0]", "model.hierarchy.upper_dims", "positive"),
    ("model.num_classes=-2", "model.num_classes", ">= 0"),
    ("model.prior.type=gauss", "model.prior.type", "standard_normal"),
]


@pytest.mark.parametrize(("override", "key", "words"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_value_is_refused_with_its_key_and_the_rule(override, key, words):
    with pytest.raises(ConfigError) as err:
        load_config(overrides=[override])
    assert key in str(err.value) and words in str(err.value)


def test_the_edges_of_each_range_are_accepted():
    config = load_config(
        overrides=["train.seed=0", "train.adam_betas=[0.0, 0.9999]", "train.adam_eps=0", "model.latent_dim=65536"]
    )
    assert config.train.adam_betas == [0.0, 0.9999] and config.model.latent_dim == 65536
