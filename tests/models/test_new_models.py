"""The models added to the contract: the VampPrior VAE, the conditional VAE and the hierarchical (Ladder) VAE,
each tested on a property that pins its definition down, and free bits per dimension or per layer."""

import math

import numpy as np
import pytest
import torch

from vaekit import load_run, train
from vaekit.config import load_config
from vaekit.distributions import standard_normal
from vaekit.errors import ConfigError, DataError
from vaekit.evaluate.likelihood import iw_log_likelihood
from vaekit.models import build_model, capabilities, model_entry
from vaekit.objectives import build_objective, elbo_terms

SHAPE = (1, 8, 8)
D = 3


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(n: int, dtype=torch.float64, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, *SHAPE, generator=gen(seed), dtype=dtype).round()


def tiny(name: str, extra=(), seed: int = 0):
    cfg = load_config(overrides=[*model_entry(name).tiny, *extra])
    return build_model(cfg.model, SHAPE, seed=seed).double().eval()


# The VampPrior.

LINEAR_ENCODER = ("model.latent_dim=3", "model.network.hidden=[]")  # the posterior head is linear in x


def vamp_with_standard_normal_pseudo_posterior():
    """A one-component VampPrior VAE whose posterior at its pseudo-input u is exactly N(0, I) (up to rounding),
    with a random linear posterior elsewhere, and the N(0, I)-prior VAE with the same weights."""
    vamp_cfg = load_config(overrides=[*LINEAR_ENCODER, "model.prior.type=vamp", "model.prior.components=1"])
    vamp = build_model(vamp_cfg.model, SHAPE, seed=0).double().eval()
    head = vamp.posterior_head.linear  # (2D, C*H*W): rows [mu; logvar], applied to the flattened image
    u = vamp.latent_prior.inputs().flatten(1)  # (1, C*H*W)
    with torch.no_grad():
        head.weight.copy_(torch.randn(head.weight.shape, generator=gen(1), dtype=torch.float64) * 0.15)
        head.bias.copy_(-(head.weight @ u[0]))  # mu(u) = 0 and logvar(u) = 0
    std_cfg = load_config(overrides=list(LINEAR_ENCODER))
    std = build_model(std_cfg.model, SHAPE, seed=5).double().eval()
    weights = {k: v for k, v in vamp.state_dict().items() if not k.startswith("latent_prior.")}
    std.load_state_dict(weights)
    return vamp, std, u


def test_one_component_vampprior_whose_pseudo_input_posterior_is_standard_normal_gives_the_standard_elbo():
    vamp, std, u = vamp_with_standard_normal_pseudo_posterior()
    x = images(4)
    with torch.no_grad():
        q_u = vamp.posterior(u.view(1, *SHAPE))
        assert torch.allclose(q_u.loc, torch.zeros_like(q_u.loc), atol=1e-12)
        assert torch.allclose(q_u.logvar, torch.zeros_like(q_u.logvar), atol=1e-12)
        assert vamp.posterior(x).loc.abs().max() > 0.1  # the data's posteriors are not N(0, I)

        # p(z) is N(0, I)
        z = torch.randn(7, 5, D, generator=gen(2), dtype=torch.float64) * 2
        assert torch.allclose(
            vamp.prior().log_prob(z), standard_normal(D, dtype=torch.float64).log_prob(z), rtol=0, atol=1e-10
        )

        # the ELBO terms at the same reparameterized draws
        a = elbo_terms(vamp, x, 3, gen(3))
        b = elbo_terms(std, x, 3, gen(3))
        assert torch.equal(a.z, b.z)
        assert torch.equal(a.log_px_z, b.log_px_z)
        ratio_vamp = vamp.log_prior_ratio(a.qz_x, a.z)
        ratio_std = std.log_prior_ratio(b.qz_x, b.z)
        assert ratio_vamp.shape == (3, 4)
        assert torch.allclose(ratio_vamp, ratio_std, rtol=0, atol=1e-10)
        # the vamp model's KL is the Monte Carlo average of -ratio at its draws; the standard one's is closed form
        assert torch.allclose(a.kl, -ratio_vamp.mean(0), rtol=0, atol=1e-12)

        n = 20_000
        qz = vamp.posterior(x)
        draws = qz.sample((n,), generator=gen(4))
        mc = vamp.kl(qz, draws)
        closed = std.kl(std.posterior(x), draws)
        err = (std.log_prior_ratio(qz, draws)).std(0) / math.sqrt(n)
        assert torch.all((mc - closed).abs() < 5 * err), (mc, closed, err)
        elbo_vamp = elbo_terms(vamp, x, n, gen(6)).elbo
        elbo_std = elbo_terms(std, x, n, gen(6)).elbo
        assert torch.all((elbo_vamp - elbo_std).abs() < 5 * err), (elbo_vamp, elbo_std)


# The conditional VAE.


def test_cvae_samples_for_a_label_depend_on_that_label():
    model = tiny("cvae")
    zeros, ones = torch.zeros(4, dtype=torch.int64), torch.ones(4, dtype=torch.int64)
    s0 = model.sample(4, gen(0), y=zeros)
    assert s0.shape == (4, *SHAPE)
    assert torch.equal(s0, model.sample(4, gen(0), y=zeros))
    assert not torch.allclose(s0, model.sample(4, gen(0), y=ones))
    z = torch.randn(4, model.latent_dim, generator=gen(1), dtype=torch.float64)
    d0, d1 = model.decode(z, y=zeros), model.decode(z, y=ones)
    assert torch.equal(d0, model.decode(z, y=zeros))
    assert not torch.allclose(d0, d1)
    # the posterior is conditioned on the label as well
    x = images(4)
    assert not torch.allclose(model.encode(x, y=zeros), model.encode(x, y=ones))


@pytest.mark.parametrize("labels", [[0, 1, 3], [0, -1, 2]])
def test_cvae_refuses_labels_out_of_range(labels):
    model = tiny("cvae")  # model.num_classes=3
    y = torch.tensor(labels)
    with pytest.raises(DataError, match="0..2"):
        model.posterior(images(3), y=y)
    with pytest.raises(DataError, match="0..2"):
        model.sample(3, gen(0), y=y)
    with pytest.raises(DataError, match="integer"):
        model.posterior(images(3), y=torch.zeros(3))


RUN = ["model.type=cvae", "model.latent_dim=2", "model.network.hidden=[16]", "train.epochs=1",
       "train.batch_size=32", "train.progress=false", "train.num_sample_images=4"]  # fmt: skip


def test_cvae_training_on_data_without_labels_fails_before_anything_is_written(tmp_path, tiny_images):
    config = load_config(overrides=[f"data.source={tiny_images}", *RUN])
    out = tmp_path / "run"
    with pytest.raises(DataError, match="labels"):
        train(config, out)
    assert not out.exists()


def test_cvae_run_records_its_number_of_classes_and_samples_for_labels(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "labelled.npz"
    np.savez(
        data,
        x_train=rng.integers(0, 256, (64, 8, 8), dtype=np.uint8),
        y_train=np.arange(64) % 3,
        x_test=rng.integers(0, 256, (16, 8, 8), dtype=np.uint8),
        y_test=np.arange(16) % 3,
    )
    out = tmp_path / "run"
    train(load_config(overrides=[f"data.source={data}", *RUN]), out)
    run = load_run(out)
    assert run.config.model.num_classes == 3
    s = run.sample(4, gen(0), y=torch.tensor([1, 1, 1, 1]))
    assert s.shape == (4, *SHAPE)
    assert torch.equal(s, run.sample(4, gen(0), y=torch.tensor([1, 1, 1, 1])))
    assert not torch.equal(s, run.sample(4, gen(0), y=torch.tensor([2, 2, 2, 2])))


# The hierarchical VAE.


def test_hierarchical_iw_estimate_is_at_least_its_elbo_on_average():
    model, x = tiny("hvae"), images(4)
    assert model.layer_dims == [3, 2]
    g = gen(0)
    with torch.no_grad():
        elbo = torch.stack([elbo_terms(model, x, 200, g).elbo for _ in range(5)]).mean(0)  # (B,)
        iw = torch.stack([iw_log_likelihood(model, x, 200, g) for _ in range(5)]).mean(0)
    assert torch.all(iw >= elbo), (iw, elbo)
    assert torch.all(iw - elbo < 10)  # a sanity bound: the two estimate nearby quantities


def test_hierarchical_kl_per_layer_sums_to_its_kl():
    model, x = tiny("hvae"), images(4)
    with torch.no_grad():
        qz_x = model.posterior(x)
        z = qz_x.rsample((6,), generator=gen(0))
        assert z.shape == (6, 4, 5)
        per_layer = model.kl_per_layer(qz_x, z)
        assert per_layer.shape == (4, 2)
        assert torch.all(per_layer >= 0)  # each layer's KL is closed form between Gaussians here
        assert torch.allclose(per_layer.sum(-1), model.kl(qz_x, z), rtol=1e-12, atol=0)
        # evaluated in a fresh pass (another tensor with the same values), the split is the same
        fresh = model.posterior(x)
        assert torch.allclose(model.kl_per_layer(fresh, z.clone()), per_layer, rtol=1e-12, atol=1e-14)
        # the top layer's KL is the closed-form KL of q(z_2|x) to N(0, I)
        top = model.top_posterior(x).kl_to_standard_normal().sum(-1)
        assert torch.allclose(per_layer[:, 1], top, rtol=1e-12, atol=0)


def test_hierarchical_decode_of_the_top_layer_uses_the_prior_means_below():
    model = tiny("hvae")
    z_top = torch.randn(5, 2, generator=gen(0), dtype=torch.float64)
    with torch.no_grad():
        layers = model.descend(None, given=[None, z_top], use_mean=True)
        assert torch.equal(layers.z[1], z_top)
        mu_1, _ = model.down_heads[0](model.down[0](z_top))  # the mean of p(z_1 | z_2)
        assert torch.allclose(layers.z[0], mu_1, rtol=1e-12, atol=0)
        images_ = model.decode(z_top)
        assert images_.shape == (5, *SHAPE)
        assert torch.allclose(images_, model.likelihood(layers.z[0]).mean, rtol=1e-12, atol=0)
        assert torch.equal(images_, model.decode(z_top.clone()))
        other = model.decode(z_top + 1.0)
    assert not torch.allclose(images_, other)


# Free bits: per dimension or per layer.


def objective_for(extra):
    cfg = load_config(overrides=list(extra))
    return build_objective(cfg.objective, capabilities=capabilities(cfg.model))


def test_free_bits_per_layer_only_for_hierarchical_models():
    assert objective_for(["objective.free_bits=0.5"]).free_bits_per == "dim"
    assert objective_for([*model_entry("hvae").tiny, "objective.free_bits=0.5"]).free_bits_per == "layer"
    with pytest.raises(ConfigError, match="free_bits"):
        objective_for(["model.prior.type=vamp", "objective.free_bits=0.5"])
    with pytest.raises(ConfigError, match="free_bits_group_size"):
        objective_for([*model_entry("hvae").tiny, "objective.free_bits=0.5", "objective.free_bits_group_size=2"])
    # without free bits a VampPrior VAE trains on the ELBO as usual
    assert objective_for(["model.prior.type=vamp"]).free_bits == 0


def test_hierarchical_layers_below_the_free_bits_get_no_kl_gradient():
    lam, beta = 50.0, 2.0
    model = tiny("hvae")
    objective = objective_for([*model_entry("hvae").tiny, f"objective.free_bits={lam}", f"objective.beta={beta}"])
    x = images(6)
    out = objective(model, x, step=0, generator=gen(0))
    terms = elbo_terms(model, x, 1, gen(0))
    assert torch.all(terms.kl.detach() < lam)  # every layer's batch-mean KL is below lambda
    reconstruction = -terms.log_px_z.mean()
    assert out.loss.item() == pytest.approx(reconstruction.item() + beta * 2 * lam, rel=1e-14)
    params = [p for p in model.parameters() if p.requires_grad]
    got = torch.autograd.grad(out.loss, params, allow_unused=True)
    want = torch.autograd.grad(reconstruction, params, allow_unused=True)
    for p, a, b in zip(params, got, want, strict=True):
        a = torch.zeros_like(p) if a is None else a
        b = torch.zeros_like(p) if b is None else b
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-14)
    # with a small lambda, the KL does reach the gradient
    small = objective_for([*model_entry("hvae").tiny, "objective.free_bits=1e-6"])
    loss = small(model, x, step=0, generator=gen(0)).loss
    g_small = torch.autograd.grad(loss, params, allow_unused=True)
    assert any(
        a is not None and not torch.allclose(a, torch.zeros_like(p) if b is None else b)
        for p, a, b in zip(params, g_small, want, strict=True)
    )
