"""BN-VAE (Zhu et al. 2020): batch-normalized posterior means with a fixed scale keep the KL above a floor."""

import pytest
import torch

from vaekit.config import load_config
from vaekit.models import build_model

GAMMA, D = 0.5, 3


def model_with(gamma: float):
    cfg = load_config(
        overrides=[f"model.posterior_bn_gamma={gamma}", f"model.latent_dim={D}", "model.network.hidden=[16]"]
    )
    return build_model(cfg.model, (1, 4, 4), seed=0)


def batch_kl(model, x):
    return model.kl_per_dim(model.posterior(x)).mean(0).sum()  # the batch's mean KL, summed over dimensions


@pytest.mark.parametrize("gamma", [0.0, GAMMA])
def test_minimizing_the_kl_alone_collapses_a_plain_posterior_and_not_a_batch_normalized_one(gamma):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(256, 1, 4, 4, generator=g)
    model = model_with(gamma).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    scale = None if gamma == 0 else model.posterior_head.bn_gamma
    floor = D * GAMMA**2 / 2  # per dimension, the batch mean of mu^2 is gamma^2 + beta^2 >= gamma^2
    for _ in range(200):
        batch = x[torch.randperm(256, generator=g)[:64]]
        kl = batch_kl(model, batch)
        if gamma > 0:  # the bound holds at every step, whatever the weights
            assert kl.item() >= floor * (1 - 1e-4)
        if gamma == 0 and kl.item() < 0.01:
            break  # collapsed
        optimizer.zero_grad()
        kl.backward()
        optimizer.step()
    final = batch_kl(model, x[:64]).item()
    if gamma == 0:
        assert final < 0.05  # collapsed onto the prior
    else:
        assert final < floor * 1.1  # pushed down onto its floor, and no further
        assert model.posterior_head.bn_gamma == scale  # gamma is fixed, never trained
        assert model.posterior_head.mean_shift.abs().max() < 0.2  # beta, learned, goes to 0 with the KL


def test_the_floor_holds_for_any_weights_and_evaluation_uses_running_statistics():
    model = model_with(GAMMA).train()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g))
    x = torch.rand(32, 1, 4, 4, generator=g)
    mu = model.posterior(x).loc.double()  # (B, D): batch statistics
    torch.testing.assert_close(mu.mean(0), model.posterior_head.mean_shift.double().detach(), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        mu.var(0, unbiased=False), torch.full((D,), GAMMA**2, dtype=torch.float64), atol=1e-3, rtol=0
    )
    assert batch_kl(model, x).item() >= D * GAMMA**2 / 2 * (1 - 1e-3)
    model.eval()  # one example at a time, normalized by the running statistics: the same with or without company
    alone = model.posterior(x[:1]).loc
    torch.testing.assert_close(alone, model.posterior(x).loc[:1])
    model.train()
    assert torch.isfinite(model.posterior(x[:1]).loc).all()  # a training batch of one uses the running statistics
