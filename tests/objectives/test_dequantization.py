"""Dequantization: a density on integer-valued pixels, trained and evaluated on uniformly dequantized pixels,
gives bits/dim that bound the discrete bits/dim from above (Theis et al. 2016)."""

import math

import numpy as np
import pytest
import torch

from vaekit.config import LikelihoodConfig, ModelConfig, load_config
from vaekit.data import Binarization
from vaekit.discretized import DiscretizedGaussian, bin_width, dequantize, log_bin_width
from vaekit.evaluate.likelihood import PixelMeasure
from vaekit.evaluate.report import likelihood_report
from vaekit.models import build_model
from vaekit.workflow.data import load_run_data


@pytest.mark.parametrize("levels", [256, 17, 2])
def test_dequantized_pixels_are_uniform_within_their_bin(levels):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, levels, (2000, 1, 4, 4), generator=g).double() / (levels - 1)
    y = dequantize(x, levels, torch.Generator().manual_seed(1))
    w = bin_width(levels)
    noise = (y - x) / w  # u - 1/2, uniform on [-1/2, 1/2)
    assert noise.min() >= -0.5 and noise.max() < 0.5
    assert torch.equal(torch.round(y * (levels - 1)), torch.round(x * (levels - 1)))  # y stays in x's bin
    assert abs(noise.mean().item()) < 4 * math.sqrt(1 / 12 / noise.numel())
    assert noise.var().item() == pytest.approx(1 / 12, rel=0.02)


@pytest.mark.parametrize("levels", [256, 17])
def test_the_dequantized_gaussian_bound_is_below_the_exact_discrete_log_probability(levels):
    """For N(m, s^2) and every value v: E_u[log N(x + w (u - 1/2))] + log w <= log P_discretized(v).

    E_u has a closed form, log N(x) - w^2 / (24 s^2) (the noise has mean 0, variance w^2 / 12), checked here
    against Monte Carlo draws of `dequantize`; all in float64.
    """
    w = bin_width(levels)
    means = torch.tensor([-0.2, 0.0, 0.3, 0.5, 0.97, 1.1], dtype=torch.float64)
    scales = torch.tensor([0.3 * w, w, 0.05, 0.3, 2.0], dtype=torch.float64)
    m, s = (t.reshape(1, 1, -1) for t in torch.meshgrid(means, scales, indexing="ij"))  # (C=1, H=1, W=30)
    x = (torch.arange(levels, dtype=torch.float64) / (levels - 1)).view(levels, 1, 1, 1)  # every value
    normal = torch.distributions.Normal(m, s)
    bound = normal.log_prob(x) - w**2 / (24 * s**2) + log_bin_width(levels)  # (L, 1, 1, 30)
    exact = DiscretizedGaussian(m, s, levels).log_bin_prob(x)
    assert (bound <= exact + 1e-12).all()
    # the closed-form expectation is what `dequantize` draws, on average
    draws = torch.stack([normal.log_prob(dequantize(x, levels, torch.Generator().manual_seed(i))) for i in range(400)])
    mc = draws.mean(0) + log_bin_width(levels)
    torch.testing.assert_close(mc, bound, atol=5 * (draws.std(0).max() / 20).item(), rtol=0)


def exact_model(likelihood: str, shape=(1, 4, 4), levels=256):
    """A VAE whose decoder ignores z and whose q(z|x) is the prior: its importance weights are p(x) for every
    draw, so the report's log p(x) is exact for any K; its Gaussian and discretized Gaussian share weights."""
    cfg = ModelConfig(latent_dim=2)
    cfg.network.hidden = [8]
    cfg.likelihood = LikelihoodConfig(type=likelihood, learn_sigma="per_pixel", sigma=0.05, levels=levels)
    model = build_model(cfg, shape, seed=0).double()
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        model.posterior_head.linear.weight.zero_()
        model.posterior_head.linear.bias.zero_()  # q(z|x) = N(0, I) = p(z)
        last = model.decoder.body[-1]
        last.weight.zero_()
        last.bias.copy_(torch.rand(last.bias.shape, generator=g, dtype=torch.float64))  # means in [0, 1)
        model.likelihood_head.log_sigma.copy_(torch.empty(shape, dtype=torch.float64).uniform_(-5, -1, generator=g))
    return model


def test_dequantized_bits_per_dim_bound_the_exact_discrete_bits_per_dim_of_the_same_gaussian():
    levels, shape = 256, (1, 4, 4)
    gaussian = exact_model("gaussian")
    discretized = exact_model("discretized_gaussian")
    discretized.load_state_dict(gaussian.state_dict())
    z = torch.zeros(300, 2, dtype=torch.float64)
    x = discretized.likelihood(z).sample(generator=torch.Generator().manual_seed(4))  # (300, 1, 4, 4), the model's
    dequantizing = Binarization("none", 0, dequantize_levels=levels)
    d = math.prod(shape)

    def report(model, measure, transform):
        raw = likelihood_report(
            model, x, iw_samples=3, batch_size=100, generator=torch.Generator().manual_seed(5), transform=transform
        )
        return measure.restate(raw, d)

    deq = report(gaussian, PixelMeasure("real", levels), dequantizing.per_batch)
    exact = report(discretized, PixelMeasure("levels", levels), None)
    assert deq["bits_per_dim"] >= exact["bits_per_dim"]
    # and the dequantized one is, up to Monte Carlo error, the closed-form expectation of the bound
    mean, sigma = gaussian.likelihood_head.mean_and_scale(gaussian.decoder(torch.zeros(1, 2, dtype=torch.float64)))
    closed = torch.distributions.Normal(mean, sigma).log_prob(x) - bin_width(levels) ** 2 / (24 * sigma**2)
    expected_bits = -(closed.sum((1, 2, 3)).mean().item() + d * log_bin_width(levels)) / (d * math.log(2))
    # tolerance: 4 standard errors of the mean over the 300 examples of the one dequantization draw each
    draws = torch.stack([normal_log_prob(gaussian, x, levels, seed) for seed in range(30)])  # (30, 300)
    tolerance = 4 * draws.std(0).mean().item() / math.sqrt(x.shape[0]) / (d * math.log(2))
    assert deq["bits_per_dim"] == pytest.approx(expected_bits, abs=tolerance)
    assert deq["log_likelihood_discrete"] == pytest.approx(deq["log_likelihood"] + d * log_bin_width(levels))


def normal_log_prob(model, x: torch.Tensor, levels: int, seed: int) -> torch.Tensor:
    """log N(dequantized x) of the z-ignoring model, (B,)."""
    px = model.likelihood(torch.zeros(x.shape[0], 2, dtype=torch.float64))
    return px.log_prob(dequantize(x, levels, torch.Generator().manual_seed(seed)))


def tiny_config(path, likelihood: list[str], binarize: str = "none"):
    return load_config(
        overrides=[
            f"data.source={path}",
            "model.latent_dim=2",
            "model.network.hidden=[8]",
            *likelihood,
            f"data.binarize={binarize}",
        ]
    )


@pytest.mark.parametrize(
    ("likelihood", "binarize", "dtype", "expected"),
    [
        (["model.likelihood.type=gaussian"], "none", np.uint8, 256),
        (["model.likelihood.type=gaussian"], "dynamic", np.uint8, 2),
        (["model.likelihood.type=gaussian"], "none", np.float32, None),  # continuous data: no noise to add
        (["model.likelihood.type=discretized_logistic"], "none", np.uint8, None),  # discrete: none needed
        (["model.likelihood.type=bernoulli"], "none", np.uint8, None),
    ],
)
def test_the_run_data_dequantize_exactly_when_a_density_meets_integer_pixels(
    tmp_path, likelihood, binarize, dtype, expected
):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(40, 4, 4)).astype(dtype)
    path = tmp_path / "x.npy"
    np.save(path, images / 256 if dtype == np.float32 else images)
    data = load_run_data(tiny_config(path, likelihood, binarize), "cpu")
    assert data.binarization.dequantize_levels == expected
    if expected:
        g = torch.Generator().manual_seed(0)
        batch = data.binarization.per_batch(data.train_x[:8], g)  # what a training step sees
        assert not torch.equal(batch, torch.round(batch * (expected - 1)) / (expected - 1))  # noisy ...
        assert (batch - data.binarization.draw(data.train_x[:8], torch.Generator().manual_seed(0))).abs().max() == 0
