"""What every registered model promises: seeded construction, a weights round trip, seeded sampling, its uses."""

import pytest
import torch

from tiny_configs import TINY_VQ
from vaekit.config import load_config
from vaekit.evaluate.by_model import evaluation_for
from vaekit.models import build_model
from vaekit.registry import MODELS
from vaekit.train.checkpoint import load_weights, save_weights

# A tiny config of each registered model type; a new type needs an entry here.
TINY = {
    "vae": ["model.latent_dim=3", "model.network.hidden=[16]"],
    "vqvae": TINY_VQ,
}
SHAPE = (1, 8, 8)


def tiny(name: str, seed: int = 0):
    return build_model(load_config(overrides=TINY[name]).model, SHAPE, seed=seed).eval()


@pytest.mark.parametrize("name", MODELS.names())
def test_same_seed_same_weights_other_seed_other_weights(name):
    a, b, c = tiny(name).state_dict(), tiny(name).state_dict(), tiny(name, seed=1).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("name", MODELS.names())
def test_weights_round_trip_through_safetensors(name, tmp_path):
    model = tiny(name)
    save_weights(tmp_path / "w.safetensors", model)
    other = tiny(name, seed=1)
    load_weights(tmp_path / "w.safetensors", other)
    x = torch.rand(3, *SHAPE, generator=torch.Generator().manual_seed(0))
    assert torch.equal(model.encode(x), other.encode(x))
    assert torch.equal(model.reconstruct(x), other.reconstruct(x))


@pytest.mark.parametrize("name", MODELS.names())
def test_uses_have_image_shapes_and_sampling_follows_the_generator(name):
    model = tiny(name)
    x = torch.rand(3, *SHAPE, generator=torch.Generator().manual_seed(0))
    assert model.decode(model.encode(x)).shape == (3, *SHAPE)
    assert model.reconstruct(x).shape == (3, *SHAPE)
    a = model.sample(4, torch.Generator().manual_seed(0))
    assert a.shape == (4, *SHAPE) and torch.equal(a, model.sample(4, torch.Generator().manual_seed(0)))
    assert not torch.equal(a, model.sample(4, torch.Generator().manual_seed(1)))


@pytest.mark.parametrize("name", MODELS.names())
def test_every_model_type_has_per_example_test_metrics_and_a_report(name):
    evaluation = evaluation_for(name)
    x = torch.rand(3, *SHAPE, generator=torch.Generator().manual_seed(0)).round()
    metrics = evaluation.test_metrics(tiny(name), x, torch.Generator().manual_seed(0))
    assert metrics and all(v.shape == (3,) for v in metrics.values())
    report = evaluation.report(tiny(name), x, iw_samples=2, batch_size=2, generator=torch.Generator())
    assert set(evaluation.summary) <= set(report) and report["num_examples"] == 3
