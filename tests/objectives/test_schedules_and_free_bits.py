"""KL warm-up and free bits change the gradient as they should; the IWAE objective is the IW bound."""

import math

import pytest
import torch

from linear_gaussian import D, data, linear_gaussian_vae
from vaekit.config import load_config
from vaekit.errors import ConfigError
from vaekit.models import capabilities
from vaekit.objectives import Elbo, Iwae, build_objective, log_importance_weights
from vaekit.objectives.elbo import free_bits_kl
from vaekit.train.schedules import lr_at_epoch


def grads(objective, step, seed=0):
    model, _ = linear_gaussian_vae(exact_posterior=False)
    out = objective(model, data(4), step=step, generator=torch.Generator().manual_seed(seed))
    return torch.autograd.grad(out.loss, list(model.posterior_head.parameters()))


def test_warmup_ramps_the_kl_gradient_linearly_from_zero():
    warm = Elbo(beta=1.0, warmup_steps=100)
    recon_only = grads(Elbo(beta=0.0), 0)
    full = grads(Elbo(beta=1.0), 0)
    for a, b in zip(grads(warm, 0), recon_only, strict=True):
        torch.testing.assert_close(a, b)  # step 0: no KL gradient at all
    for a, b, c in zip(grads(warm, 25), recon_only, full, strict=True):
        torch.testing.assert_close(a, 0.75 * b + 0.25 * c)  # a quarter of the way
    for a, b in zip(grads(warm, 500), full, strict=True):
        torch.testing.assert_close(a, b)  # done: the plain ELBO


def test_warmup_in_epochs_converts_to_steps():
    cfg = load_config(overrides=["objective.warmup_epochs=2", "objective.warmup_steps=5"])
    assert build_objective(cfg.objective, steps_per_epoch=30, capabilities=capabilities(cfg.model)).warmup_steps == 65


def test_free_bits_gradient_is_zero_below_the_threshold_and_unchanged_above():
    kl = torch.tensor([[0.1, 2.0, 0.3, 1.0], [0.3, 4.0, 0.1, 0.2]], dtype=torch.float64, requires_grad=True)
    # batch means per dimension: 0.2, 3.0, 0.2, 0.6
    value = free_bits_kl(kl, threshold=0.5, group_size=1)
    assert value.item() == pytest.approx(0.5 + 3.0 + 0.5 + 0.6)
    (grad,) = torch.autograd.grad(value, kl)
    torch.testing.assert_close(grad, torch.tensor([[0, 0.5, 0, 0.5]] * 2, dtype=torch.float64))
    grouped = free_bits_kl(kl, threshold=1.0, group_size=2)  # groups: 3.2 and 0.8
    assert grouped.item() == pytest.approx(3.2 + 1.0)
    (grad,) = torch.autograd.grad(grouped, kl)
    torch.testing.assert_close(grad, torch.tensor([[0.5, 0.5, 0, 0]] * 2, dtype=torch.float64))


def test_free_bits_objective_leaves_kl_gradient_only_where_kl_exceeds_lambda():
    model, _ = linear_gaussian_vae(exact_posterior=False)
    x = data(4)
    kl_dims = model.kl_per_dim(model.posterior(x)).mean(0).detach()
    lam = float(kl_dims.sort().values[1])  # between the smallest two and the rest
    below = kl_dims < lam
    lr = grads(Elbo(beta=0.0), 0)
    full = grads(Elbo(beta=1.0), 0)
    fb = grads(Elbo(beta=1.0, free_bits=lam), 0)
    bias_recon, bias_full, bias_fb = lr[1], full[1], fb[1]  # head bias (2D,): [mu; logvar]
    for d in range(D):
        rows = [d, D + d]
        expected = bias_recon[rows] if below[d] else bias_full[rows]
        torch.testing.assert_close(bias_fb[rows], expected)


def test_iwae_objective_is_the_negative_iw_bound():
    model, _ = linear_gaussian_vae(exact_posterior=False)
    x = data(3)
    out = Iwae(num_samples=7)(model, x, step=0, generator=torch.Generator().manual_seed(4))
    qz_x = model.posterior(x)
    z = qz_x.rsample((7,), generator=torch.Generator().manual_seed(4))
    log_w = log_importance_weights(model, x, qz_x, z)
    torch.testing.assert_close(out.loss, -(torch.logsumexp(log_w, 0) - math.log(7)).mean())
    out.loss.backward()
    assert model.posterior_head.linear.weight.grad.abs().sum() > 0


def test_iwae_refuses_a_kl_weight():
    with pytest.raises(ConfigError, match="iwae"):  # refused by the iwae's config schema, before any building
        cfg = load_config(overrides=["objective.name=iwae", "objective.beta=4"])
        build_objective(cfg.objective, capabilities=capabilities(cfg.model))


def test_iwae_lr_schedule_stages():
    lrs = [lr_at_epoch("iwae", 1e-3, e) for e in range(3280 + 5)]
    assert lrs[0] == 1e-3 and lrs[1] == lrs[3] == pytest.approx(1e-3 * 10 ** (-1 / 7))
    assert lrs[4] == pytest.approx(1e-3 * 10 ** (-2 / 7))
    assert lrs[3279] == lrs[3284] == pytest.approx(1e-3 * 10**-1)
    assert len(set(lrs)) == 8
    assert sum(1 for v in lrs[:3280] if v == lrs[3279]) == 3**7
