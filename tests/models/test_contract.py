"""What every registered model promises: seeded construction, a weights round trip, seeded sampling, its uses,
and, for the models on the latent-variable contract, a KL and importance weights that agree with each other."""

import math

import pytest
import torch

from vaekit.config import load_config
from vaekit.evaluate.by_model import evaluation_for
from vaekit.evaluate.likelihood import iw_log_likelihood
from vaekit.models import build_model, capabilities, model_entry
from vaekit.objectives import elbo_terms
from vaekit.registry import MODELS
from vaekit.train.checkpoint import load_weights, save_weights

SHAPE = (1, 8, 8)
LATENT = [n for n in MODELS.names() if model_entry(n).evaluation == "likelihood"]


def config(name: str, extra=()):
    return load_config(overrides=[*model_entry(name).tiny, *extra])


def tiny(name: str, seed: int = 0, extra=()):
    return build_model(config(name, extra).model, SHAPE, seed=seed).eval()


def images(n: int, dtype=torch.float32) -> torch.Tensor:
    return torch.rand(n, *SHAPE, generator=torch.Generator().manual_seed(0), dtype=dtype).round()


def cond_of(name: str, n: int, extra=()) -> dict:
    """Labels for a conditional model (0, 1, 2, 0, ...), nothing for the others."""
    cfg = config(name, extra).model
    return {"y": torch.arange(n) % cfg.num_classes} if "labels" in capabilities(cfg) else {}


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
    x, cond = images(3), cond_of(name, 3)
    assert torch.equal(model.reconstruct(x, **cond), other.reconstruct(x, **cond))
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    assert torch.equal(model.sample(3, g(), **cond), other.sample(3, g(), **cond))


@pytest.mark.parametrize("name", MODELS.names())
def test_uses_have_image_shapes_and_sampling_follows_the_generator(name):
    model, caps = tiny(name), capabilities(config(name).model)
    x, cond = images(3), cond_of(name, 3)
    if "latent_vector" in caps:
        z = model.encode(x, **cond)
        assert z.shape == (3, model.latent_dim) and z.is_floating_point()
        assert model.decode(z, **cond).shape == (3, *SHAPE)
    if "codes" in caps:
        codes = model.encode_codes(x)
        assert codes.dtype == torch.int64 and model.decode_codes(codes).shape == (3, *SHAPE)
    assert model.reconstruct(x, **cond).shape == (3, *SHAPE)
    cond4 = cond_of(name, 4)
    a = model.sample(4, torch.Generator().manual_seed(0), **cond4)
    assert a.shape == (4, *SHAPE) and torch.equal(a, model.sample(4, torch.Generator().manual_seed(0), **cond4))
    assert not torch.equal(a, model.sample(4, torch.Generator().manual_seed(1), **cond4))


@pytest.mark.parametrize("name", MODELS.names())
def test_every_model_type_has_per_example_test_metrics_and_a_report(name):
    evaluation, caps = evaluation_for(name), capabilities(config(name).model)
    x, cond = images(3), cond_of(name, 3)
    metrics = evaluation.test_metrics(tiny(name), x, torch.Generator().manual_seed(0), **cond)
    assert metrics and all(v.shape == (3,) for v in metrics.values())
    report = evaluation.report(
        tiny(name), x, iw_samples=2, batch_size=2, generator=torch.Generator(), cond=cond, capabilities=caps
    )
    assert set(evaluation.summary) <= set(report) and report["num_examples"] == 3


# The latent-variable contract, in float64, for every model on it and with the VampPrior where it applies.
VARIANTS = [(n, ()) for n in LATENT] + [
    (n, ("model.prior.type=vamp", "model.prior.components=3")) for n in LATENT if n != "cvae"
]


def latent(name, extra):
    return tiny(name, extra=extra).double()


@pytest.mark.parametrize(("name", "extra"), VARIANTS)
def test_kl_is_the_expected_log_ratio_of_posterior_to_prior(name, extra):
    """KL(q || p) = E_q[log q(z|x) - log p(z)]: the model's KL at 20000 draws (closed form where it has one,
    else its own Monte Carlo average) against a 20000-draw average of -log_prior_ratio at other draws."""
    model, x, cond = latent(name, extra), images(2, torch.float64), cond_of(name, 2, extra)
    n = 20_000
    with torch.no_grad():
        qz_x = model.posterior(x, **cond)
        ratio = -model.log_prior_ratio(qz_x, qz_x.sample((n,), generator=torch.Generator().manual_seed(0)), **cond)
        kl = model.kl(qz_x, qz_x.sample((n,), generator=torch.Generator().manual_seed(1)), **cond)
    assert ratio.shape == (n, 2) and kl.shape == (2,)
    err = ratio.std(0) * math.sqrt(2 / n)  # the standard error of a difference of two such averages
    assert torch.all((kl - ratio.mean(0)).abs() < 5 * err), (kl, ratio.mean(0), err)


@pytest.mark.parametrize(("name", "extra"), VARIANTS)
def test_elbo_is_below_the_importance_weighted_estimate(name, extra):
    """E[ELBO] <= E[log (1/k) sum w] for k = 200, both averaged over many draws for a fair comparison."""
    model, x, cond = latent(name, extra), images(4, torch.float64), cond_of(name, 4, extra)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        elbo = torch.stack([elbo_terms(model, x, 200, g, **cond).elbo for _ in range(5)]).mean(0)  # (B,)
        iw = torch.stack([iw_log_likelihood(model, x, 200, g, **cond) for _ in range(5)]).mean(0)
    assert torch.all(iw >= elbo), (iw, elbo)
