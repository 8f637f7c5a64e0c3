"""Capacity control and beta-TCVAE change the gradient as they should, on the same VAE as the ELBO."""

import copy
import math

import pytest
import torch

import vaekit
from linear_gaussian import data, linear_gaussian_vae
from vaekit.config import ModelConfig, load_config
from vaekit.distributions import DiagonalGaussian
from vaekit.errors import ConfigError
from vaekit.models import capabilities
from vaekit.objectives import BetaTcvae, CapacityElbo, Elbo, build_objective, elbo_terms, total_correlation


def grads(objective, step, seed=0):
    model, _ = linear_gaussian_vae(exact_posterior=False)
    out = objective(model, data(4), step=step, generator=torch.Generator().manual_seed(seed))
    return torch.autograd.grad(out.loss, list(model.posterior_head.parameters()))


def batch_kl() -> float:
    model, _ = linear_gaussian_vae(exact_posterior=False)
    return elbo_terms(model, data(4), 1, torch.Generator().manual_seed(0)).kl.mean().item()


def test_capacity_rises_linearly_to_its_maximum():
    objective = CapacityElbo(capacity_max=20.0, capacity_steps=100)
    assert [objective.capacity(s) for s in (0, 25, 100, 1000)] == [0.0, 5.0, 20.0, 20.0]
    assert CapacityElbo(capacity_max=20.0, capacity_steps=0).capacity(0) == 20.0


def test_capacity_kl_gradient_flips_sign_around_c():
    kl = batch_kl()
    gamma = 3.0
    objective = CapacityElbo(gamma=gamma, capacity_max=2 * kl, capacity_steps=100)  # C = kl at step 50
    recon = grads(Elbo(beta=0.0), 0)
    full = grads(Elbo(beta=1.0), 0)
    for step, sign in ((10, 1.0), (90, -1.0)):  # C = 0.2 kl: pull the KL down; C = 1.8 kl: push it up
        for g, r, f in zip(grads(objective, step), recon, full, strict=True):
            torch.testing.assert_close(g, r + sign * gamma * (f - r))


def test_capacity_at_zero_with_gamma_one_is_the_elbo():
    model, _ = linear_gaussian_vae(exact_posterior=False)
    x = data(4)
    ours = CapacityElbo(gamma=1.0, capacity_max=0.0)(model, x, step=0, generator=torch.Generator().manual_seed(1))
    elbo = Elbo(beta=1.0)(model, x, step=0, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(ours.loss, elbo.loss)
    assert ours.metrics["capacity"].item() == 0.0 and set(elbo.metrics) < set(ours.metrics)


def test_capacity_config_keys_and_epoch_schedule():
    cfg = load_config(
        overrides=[
            "objective.name=capacity",
            "objective.gamma=100",
            "objective.capacity_max=10",
            "objective.capacity_steps=5",
            "objective.capacity_epochs=2",
        ]
    )
    objective = build_objective(cfg.objective, steps_per_epoch=30, capabilities=capabilities(cfg.model))
    assert (objective.gamma, objective.capacity_max, objective.capacity_steps) == (100.0, 10.0, 65)


@pytest.mark.parametrize(
    "overrides",
    [
        ["objective.name=capacity", "objective.beta=4"],
        ["objective.name=capacity", "objective.gamma=-1"],
        ["objective.name=beta_tcvae", "objective.free_bits=0.5"],
    ],
)
def test_objectives_refuse_keys_that_do_not_apply(overrides):
    with pytest.raises(ConfigError, match="objective"):
        build_objective(load_config(overrides=overrides).objective, capabilities=capabilities(ModelConfig()))


def gaussian_batch(cov: torch.Tensor, n: int, sigma: float, seed: int = 0):
    """q(z|x_i) = N(mu_i, sigma^2 I), mu_i ~ N(0, cov), and a draw z_i from each; q(z) -> N(0, cov + sigma^2 I)."""
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(n, cov.shape[0], generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov).T
    qz_x = DiagonalGaussian(mu, torch.full_like(mu, 2 * math.log(sigma)))
    return qz_x, qz_x.sample(generator=g)


def gaussian_tc(cov: torch.Tensor) -> float:
    """TC of N(0, cov): 0.5 * (sum_d log cov_dd - log det cov)."""
    return 0.5 * (torch.log(torch.diagonal(cov)).sum() - torch.logdet(cov)).item()


def test_tc_estimate_is_near_zero_for_a_factorized_q_on_a_large_batch():
    qz_x, z = gaussian_batch(torch.diag(torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)), 4000, sigma=0.5)
    tc = total_correlation(qz_x, z)
    assert tc.shape == (4000,)
    assert abs(tc.mean().item()) < 0.03


def test_tc_estimate_is_positive_and_near_the_closed_form_for_a_correlated_q():
    cov = torch.tensor([[1.0, 0.8, 0.0], [0.8, 1.0, 0.3], [0.0, 0.3, 1.0]], dtype=torch.float64)
    qz_x, z = gaussian_batch(cov, 4000, sigma=0.3)
    expected = gaussian_tc(cov + 0.09 * torch.eye(3, dtype=torch.float64))  # about 0.48 nats
    assert total_correlation(qz_x, z).mean().item() == pytest.approx(expected, abs=0.06)
    assert expected > 0.4


def test_tc_of_several_draws_is_per_draw():
    qz_x, z = gaussian_batch(torch.eye(2, dtype=torch.float64), 50, sigma=0.5)
    stacked = torch.stack([z, z.flip(-1)])  # (2, B, D)
    tc = total_correlation(qz_x, stacked)
    assert tc.shape == (2, 50)
    torch.testing.assert_close(tc[0], total_correlation(qz_x, z))


def test_beta_tcvae_adds_beta_minus_one_times_tc_to_the_negative_elbo():
    model, _ = linear_gaussian_vae(exact_posterior=False)
    x = data(8)

    def run(objective):
        return objective(model, x, step=0, generator=torch.Generator().manual_seed(2))

    elbo = run(Elbo(beta=1.0))
    torch.testing.assert_close(run(BetaTcvae(beta=1.0)).loss, elbo.loss)
    out = run(BetaTcvae(beta=5.0))
    torch.testing.assert_close(out.loss, elbo.loss + 4.0 * out.metrics["tc"])
    out.loss.backward()
    assert model.posterior_head.linear.weight.grad.abs().sum() > 0


def test_beta_tcvae_gradient_lowers_the_tc():
    qz_x, _ = gaussian_batch(torch.tensor([[1.0, 0.9], [0.9, 1.0]], dtype=torch.float64), 256, sigma=0.3)
    mu = qz_x.loc.clone().requires_grad_(True)
    q = DiagonalGaussian(mu, qz_x.logvar)
    g = torch.Generator().manual_seed(3)
    tc = total_correlation(q, q.rsample(generator=g)).mean()
    (grad,) = torch.autograd.grad(tc, mu)
    after = DiagonalGaussian(mu.detach() - 0.5 * grad, qz_x.logvar)
    assert total_correlation(after, after.rsample(generator=torch.Generator().manual_seed(3))).mean() < tc


@pytest.mark.parametrize(
    "overrides",
    [
        ["objective.name=capacity", "objective.capacity_steps=3", "objective.gamma=10"],
        ["objective.name=beta_tcvae", "objective.beta=6"],
    ],
)
def test_the_objectives_train_a_vae_and_log_their_terms(tiny_config, tmp_path, overrides):
    config = copy.deepcopy(tiny_config)
    config.objective = load_config(overrides=overrides).objective
    record = vaekit.train(config, tmp_path / "run").metrics()[-1]
    assert "train_capacity" in record or "train_tc" in record
    assert math.isfinite(record["train_elbo"]) and math.isfinite(record["test_elbo"])
