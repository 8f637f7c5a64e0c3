"""What every registered model promises, for every kind of data it accepts (an image, a table of mixed columns, token
sequences):
seeded construction, a weights round trip, seeded sampling, its uses, and, for the models on the latent-variable
contract, a KL and importance weights that agree with each other."""

import math

import pytest
import torch

from vaekit.config import load_config
from vaekit.evaluate.by_model import evaluation_for
from vaekit.evaluate.likelihood import iw_log_likelihood
from vaekit.models import build_model, capabilities, model_entry
from vaekit.objectives import elbo_terms
from vaekit.registry import MODELS
from vaekit.spec import SPECIALS, Column, DataSpec, Vocabulary
from vaekit.train.checkpoint import load_weights, save_weights

IMAGE = DataSpec.image((1, 8, 8), levels=2)
TABLE = DataSpec.table(
    (
        Column("a", "real", mean=3.0, std=2.0),
        Column("b", "binary", ("no", "yes")),
        Column("c", "categorical", ("x", "y", "z")),
        Column("d", "count", mean=4.0),
        Column("e", "real", mean=-1.0, std=0.5),
    )
)
SEQUENCE = DataSpec.sequence(Vocabulary((*SPECIALS, "a", "b", "c")), 6)
SPECS = {"image": IMAGE, "table": TABLE, "sequence": SEQUENCE}
KIND_CONFIG = {
    "image": (),
    "table": ("model.likelihood.type=columns", "model.likelihood.learn_sigma=per_column"),
    "sequence": ("model.network.type=recurrent", "model.likelihood.type=tokens", "model.network.embedding_dim=8"),
}
LATENT = [n for n in MODELS.names() if model_entry(n).evaluation == "likelihood"]
# every registered model with every kind of data it accepts
CASES = [(n, k) for n in MODELS.names() for k in model_entry(n).kinds]


def config(name: str, extra=(), kind: str = "image"):
    return load_config(overrides=[*model_entry(name).tiny, *KIND_CONFIG[kind], *extra])


def tiny(name: str, seed: int = 0, extra=(), kind: str = "image"):
    return build_model(config(name, extra, kind).model, SPECS[kind], seed=seed).eval()


def examples(n: int, dtype=torch.float32, kind: str = "image") -> torch.Tensor:
    """n binary images, n rows of TABLE in the model's numbers (standardized reals, indices, counts), or n token
    sequences of SEQUENCE (int64: tokens of random lengths, <eos>, <pad>; dtype does not apply)."""
    g = torch.Generator().manual_seed(0)
    if kind == "image":
        return torch.rand(n, *IMAGE.event_shape, generator=g, dtype=dtype).round()
    if kind == "sequence":
        (t,), v = SEQUENCE.event_shape, SEQUENCE.levels
        x = torch.randint(3, v, (n, t), generator=g)  # <unk> and the words
        lengths = torch.randint(1, t + 1, (n,), generator=g)  # tokens + <eos>
        x[torch.arange(n), lengths - 1] = 2  # <eos>
        return x.masked_fill(torch.arange(t) >= lengths[:, None], 0)
    real = torch.randn(n, 2, generator=g, dtype=dtype)
    binary = torch.randint(2, (n,), generator=g).to(dtype)
    category = torch.randint(3, (n,), generator=g).to(dtype)
    count = torch.poisson(torch.full((n,), 4.0, dtype=dtype), generator=g)
    return torch.stack([real[:, 0], binary, category, count, real[:, 1]], 1)  # (n, 5)


def cond_of(name: str, n: int, extra=()) -> dict:
    """Labels for a conditional model (0, 1, 2, 0, ...), nothing for the others."""
    cfg = config(name, extra).model
    return {"y": torch.arange(n) % cfg.num_classes} if "labels" in capabilities(cfg) else {}


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_same_seed_same_weights_other_seed_other_weights(name, kind):
    a, b = tiny(name, kind=kind).state_dict(), tiny(name, kind=kind).state_dict()
    c = tiny(name, seed=1, kind=kind).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_weights_round_trip_through_safetensors(name, kind, tmp_path):
    model = tiny(name, kind=kind)
    save_weights(tmp_path / "w.safetensors", model)
    other = tiny(name, seed=1, kind=kind)
    load_weights(tmp_path / "w.safetensors", other)
    x, cond = examples(3, kind=kind), cond_of(name, 3)
    assert torch.equal(model.reconstruct(x, **cond), other.reconstruct(x, **cond))
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    assert torch.equal(model.sample(3, g(), **cond), other.sample(3, g(), **cond))


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_uses_have_the_data_shape_and_sampling_follows_the_generator(name, kind):
    model, caps, shape = tiny(name, kind=kind), capabilities(config(name, kind=kind).model), SPECS[kind].event_shape
    x, cond = examples(3, kind=kind), cond_of(name, 3)
    if "latent_vector" in caps:
        z = model.encode(x, **cond)
        assert z.shape == (3, model.latent_dim) and z.is_floating_point()
        assert model.decode(z, **cond).shape == (3, *shape)
    if "codes" in caps:
        codes = model.encode_codes(x)
        assert codes.dtype == torch.int64 and model.decode_codes(codes).shape == (3, *shape)
    assert model.reconstruct(x, **cond).shape == (3, *shape)
    cond4 = cond_of(name, 4)
    draw = model.draw if SPECS[kind].facts.sample_draws else model.sample  # a table's, a sequence's: draws
    a = draw(4, torch.Generator().manual_seed(0), **cond4)
    assert a.shape == (4, *shape) and torch.equal(a, draw(4, torch.Generator().manual_seed(0), **cond4))
    assert not torch.equal(a, draw(4, torch.Generator().manual_seed(1), **cond4))


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_every_model_type_has_per_example_test_metrics_and_a_report(name, kind):
    evaluation, caps = evaluation_for(name), capabilities(config(name, kind=kind).model)
    x, cond = examples(3, kind=kind), cond_of(name, 3)
    metrics = evaluation.test_metrics(tiny(name, kind=kind), x, torch.Generator().manual_seed(0), **cond)
    assert metrics and all(v.shape == (3,) for v in metrics.values())
    report = evaluation.report(
        tiny(name, kind=kind), x, iw_samples=2, batch_size=2, generator=torch.Generator(), cond=cond, capabilities=caps
    )
    by_capability = {"mi": "gaussian_posterior"}  # headline keys only some models of a family have
    expected = {k for k in evaluation.summary if by_capability.get(k, "") in caps | {""}}
    assert expected <= set(report) and report["num_examples"] == 3
    assert ("mi" in report) == ("gaussian_posterior" in caps)


# The latent-variable contract, in float64, for every model on it, every kind of data it accepts, and with the
# VampPrior where it applies.
VAMP = ("model.prior.type=vamp", "model.prior.components=3")
VARIANTS = [(n, (), k) for n in LATENT for k in model_entry(n).kinds] + [
    (n, VAMP, k)
    for n in LATENT
    if n not in ("cvae", "lm")
    for k in model_entry(n).kinds  # lm: no latent, no prior
]


def latent(name, extra, kind):
    return tiny(name, extra=extra, kind=kind).double()


@pytest.mark.parametrize(("name", "extra", "kind"), VARIANTS)
def test_kl_is_the_expected_log_ratio_of_posterior_to_prior(name, extra, kind):
    """KL(q || p) = E_q[log q(z|x) - log p(z)]: the model's KL at 20000 draws (closed form where it has one,
    else its own Monte Carlo average) against a 20000-draw average of -log_prior_ratio at other draws."""
    model, x, cond = latent(name, extra, kind), examples(2, torch.float64, kind), cond_of(name, 2, extra)
    n = 20_000
    with torch.no_grad():
        qz_x = model.posterior(x, **cond)
        ratio = -model.log_prior_ratio(qz_x, qz_x.sample((n,), generator=torch.Generator().manual_seed(0)), **cond)
        kl = model.kl(qz_x, qz_x.sample((n,), generator=torch.Generator().manual_seed(1)), **cond)
    assert ratio.shape == (n, 2) and kl.shape == (2,)
    err = ratio.std(0) * math.sqrt(2 / n)  # the standard error of a difference of two such averages
    assert torch.all((kl - ratio.mean(0)).abs() <= 5 * err), (kl, ratio.mean(0), err)  # lm: 0 = 0 exactly


@pytest.mark.parametrize(("name", "extra", "kind"), VARIANTS)
def test_elbo_is_below_the_importance_weighted_estimate(name, extra, kind):
    """E[ELBO] <= E[log (1/k) sum w] for k = 200, both averaged over many draws for a fair comparison, within three
    standard errors of the difference of the averages (an untrained sequence decoder barely reads z, so the gap is
    about 0 there; for a model without a latent, lm, the two are equal)."""
    model, x, cond = latent(name, extra, kind), examples(4, torch.float64, kind), cond_of(name, 4, extra)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        elbos = torch.stack([elbo_terms(model, x, 200, g, **cond).elbo for _ in range(5)])  # (5, B)
        iws = torch.stack([iw_log_likelihood(model, x, 200, g, **cond) for _ in range(5)])
    elbo, iw = elbos.mean(0), iws.mean(0)
    se = ((elbos.var(0) + iws.var(0)) / 5).sqrt()
    assert torch.all(iw >= elbo - 3 * se - 1e-9), (iw, elbo, se)
