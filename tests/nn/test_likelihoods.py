"""Each likelihood's log_prob against its closed form, with the full normalizing constant."""

import math

import torch

from vaekit.config import LikelihoodConfig
from vaekit.registry import LIKELIHOODS

SHAPE = (1, 2, 3)


def build(**kwargs):
    import vaekit.nn  # noqa: F401

    cfg = LikelihoodConfig(**kwargs)
    return LIKELIHOODS.get(cfg.type)(cfg, SHAPE).double()


def test_bernoulli_log_prob_is_the_closed_form_for_binary_and_intensity_targets():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, *SHAPE, generator=g, dtype=torch.float64) * 3
    p = torch.sigmoid(logits)
    head = build(type="bernoulli")
    for x in (
        torch.bernoulli(torch.full_like(p, 0.5), generator=g),
        torch.rand(p.shape, generator=g, dtype=p.dtype),
    ):
        expected = (x * p.log() + (1 - x) * (1 - p).log()).sum((1, 2, 3))
        torch.testing.assert_close(head(logits).log_prob(x), expected)


def test_bernoulli_log_prob_is_stable_for_extreme_logits():
    logits = torch.tensor([[[[-200.0, 200.0, 0.0], [50.0, -50.0, 0.0]]]], dtype=torch.float64)
    x = torch.tensor([[[[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]]], dtype=torch.float64)
    lp = build(type="bernoulli")(logits).log_prob(x)
    assert torch.isfinite(lp).all()
    torch.testing.assert_close(lp, torch.tensor([2 * math.log(0.5)], dtype=torch.float64), atol=1e-12, rtol=0)


def gaussian_closed_form(x, mean, sigma):
    return (-0.5 * ((x - mean) / sigma) ** 2 - torch.log(sigma) - 0.5 * math.log(2 * math.pi)).sum((1, 2, 3))


def test_gaussian_fixed_sigma_log_prob_includes_normalizing_constant():
    g = torch.Generator().manual_seed(1)
    mean = torch.randn(3, *SHAPE, generator=g, dtype=torch.float64)
    x = torch.randn(3, *SHAPE, generator=g, dtype=torch.float64)
    head = build(type="gaussian", sigma=0.3)
    sigma = torch.full(SHAPE, 0.3, dtype=torch.float64)
    torch.testing.assert_close(head(mean).log_prob(x), gaussian_closed_form(x, mean, sigma))
    assert not any(p.requires_grad for p in head.parameters())


def test_gaussian_learned_sigma_shared_and_per_pixel_are_parameters_with_gradients():
    g = torch.Generator().manual_seed(2)
    mean = torch.randn(3, *SHAPE, generator=g, dtype=torch.float64)
    x = torch.randn(3, *SHAPE, generator=g, dtype=torch.float64)
    for mode, size in (("shared", 1), ("per_pixel", math.prod(SHAPE))):
        head = build(type="gaussian", sigma=0.5, learn_sigma=mode)
        (log_sigma,) = list(head.parameters())
        assert log_sigma.numel() == size
        with torch.no_grad():
            log_sigma.copy_(torch.linspace(-1, 1, size, dtype=torch.float64).view_as(log_sigma))
        sigma = log_sigma.detach().exp().expand(SHAPE)
        lp = head(mean).log_prob(x)
        torch.testing.assert_close(lp, gaussian_closed_form(x, mean, sigma))
        lp.sum().backward()
        assert log_sigma.grad is not None and torch.all(log_sigma.grad != 0)
