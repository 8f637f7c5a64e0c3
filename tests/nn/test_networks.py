"""Encoder and decoder bodies: shapes for 28x28, 32x32 and 64x64 images, leading sample dimensions."""

import pytest
import torch

from vaekit.config import ModelConfig
from vaekit.errors import ConfigError
from vaekit.models import build_model
from vaekit.registry import NETWORKS

CASES = [
    ("mlp", (1, 28, 28), {"hidden": [64, 32]}),
    ("mlp", (3, 32, 32), {"hidden": [16]}),
    ("conv", (1, 28, 28), {"channels": [8, 16], "hidden": [32]}),
    ("conv", (3, 32, 32), {"channels": [8, 16], "hidden": []}),
    ("conv", (1, 64, 64), {"channels": [8, 8, 16, 16], "hidden": [32]}),
]


@pytest.mark.parametrize("kind, shape, net", CASES)
def test_model_maps_images_to_latents_and_back(kind, shape, net):
    assert set(NETWORKS.names()) == {"mlp", "conv", "recurrent"}  # recurrent: sequences (tests/nn/test_recurrent.py)
    cfg = ModelConfig(latent_dim=5)
    cfg.network.type = kind
    for key, value in net.items():
        setattr(cfg.network, key, value)
    model = build_model(cfg, shape)
    x = torch.rand(3, *shape)
    qz_x = model.posterior(x)
    assert qz_x.mean.shape == (3, 5) and qz_x.event_shape == (5,)
    z = qz_x.rsample((4,), generator=torch.Generator().manual_seed(0))  # (4, 3, 5)
    px_z = model.likelihood(z)
    assert px_z.batch_shape == (4, 3) and px_z.event_shape == shape
    assert px_z.log_prob(x).shape == (4, 3)
    # the sample dimension is only a batch dimension: decoding a flat batch gives the same numbers
    flat = model.likelihood(z.flatten(0, 1)).log_prob(x.repeat(4, 1, 1, 1)).view(4, 3)
    torch.testing.assert_close(px_z.log_prob(x), flat)
    assert model.sample(2, generator=torch.Generator().manual_seed(1)).shape == (2, *shape)


def test_conv_network_without_stages_is_refused_with_the_mlp_as_the_fix():
    cfg = ModelConfig()
    cfg.network.type = "conv"
    cfg.network.channels = []
    with pytest.raises(ConfigError, match="model.network.type=mlp"):
        build_model(cfg, (1, 28, 28))


def test_same_seed_same_initial_weights_without_touching_the_global_rng():
    cfg = ModelConfig(latent_dim=4)
    state = torch.random.get_rng_state()
    a, b, c = (build_model(cfg, (1, 8, 8), seed=s) for s in (3, 3, 4))
    assert torch.equal(torch.random.get_rng_state(), state)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters(), strict=True))
