"""The discretized likelihoods: probabilities over every pixel value, closed forms, stability, sampling, shapes."""

import math

import pytest
import torch

from vaekit.config import LikelihoodConfig, ModelConfig
from vaekit.discretized import DiscretizedGaussian, DiscretizedLogisticMixture
from vaekit.errors import ConfigError
from vaekit.models import build_model
from vaekit.nn.likelihoods import build_likelihood, likelihood_support

SHAPE = (3, 2, 2)  # RGB, so channel handling is exercised


def head(levels: int, **kwargs):
    return build_likelihood(LikelihoodConfig(levels=levels, **kwargs), SHAPE).double()


def all_values(levels: int) -> torch.Tensor:
    """Every pixel value v / (L - 1) as a batch (L, C, H, W): image v has all its pixels at value v."""
    v = torch.arange(levels, dtype=torch.float64) / (levels - 1)
    return v.view(levels, 1, 1, 1).expand(levels, *SHAPE)


def random_params(head_, batch: int, seed: int, spread: float = 2.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, *head_.parameter_shape, generator=g, dtype=torch.float64) * spread


CASES = [
    ("discretized_logistic", {"components": 1}),
    ("discretized_logistic", {"components": 4}),
    ("discretized_gaussian", {"learn_sigma": "decoder", "sigma": 0.1}),
    ("discretized_gaussian", {"learn_sigma": "per_pixel", "sigma": 0.02}),
]


@pytest.mark.parametrize("levels", [256, 17, 2])
@pytest.mark.parametrize(("kind", "options"), CASES)
def test_probabilities_of_all_values_sum_to_one_per_pixel(kind, options, levels):
    h = head(levels, type=kind, **options)
    params = random_params(h, 1, seed=levels)  # one parameter set, every value against it
    px = h(params)
    log_p = px.log_bin_prob(all_values(levels))  # (L, C, H, W): log P(pixel = v) for every v and pixel
    total = torch.logsumexp(log_p, 0).exp()  # (C, H, W)
    torch.testing.assert_close(total, torch.ones_like(total), atol=1e-10, rtol=0)


def test_logistic_mixture_matches_its_closed_form_in_float64():
    levels, half = 256, 0.5 / 255
    g = torch.Generator().manual_seed(3)
    logits, means = torch.randn(2, 1, 1, 1, 3, generator=g, dtype=torch.float64).unbind(0)
    log_scales = torch.randn(1, 1, 1, 3, generator=g, dtype=torch.float64) - 3
    px = DiscretizedLogisticMixture(logits, means, log_scales, levels)
    x = torch.tensor([0.0, 1 / 255, 100 / 255, 254 / 255, 1.0], dtype=torch.float64).view(5, 1, 1, 1)
    pi, s = torch.softmax(logits, -1), log_scales.exp()
    upper = torch.sigmoid((x[..., None] + half - means) / s)
    lower = torch.sigmoid((x[..., None] - half - means) / s)
    upper[-1], lower[0] = 1.0, 0.0  # the edge bins reach +inf and -inf
    expected = (pi * (upper - lower)).sum(-1).log()  # (5, 1, 1, 1)
    torch.testing.assert_close(px.log_bin_prob(x), expected, atol=1e-12, rtol=1e-9)


def test_discretized_gaussian_matches_its_closed_form_in_float64():
    mean = torch.tensor([[[0.3]]], dtype=torch.float64)
    scale = torch.tensor([[[0.2]]], dtype=torch.float64)  # wide enough for the naive difference of CDFs
    px = DiscretizedGaussian(mean, scale, 17)
    x = torch.arange(17, dtype=torch.float64).view(17, 1, 1, 1) / 16
    cdf = torch.special.ndtr((torch.cat([x - 1 / 32, x[-1:] + 1 / 32]) - mean) / scale).flatten()
    cdf[0], cdf[-1] = 0.0, 1.0
    expected = (cdf[1:] - cdf[:-1]).log().view(17, 1, 1, 1)
    torch.testing.assert_close(px.log_bin_prob(x), expected, atol=1e-12, rtol=1e-9)


@pytest.mark.parametrize("kind", ["logistic", "gaussian"])
def test_float32_is_finite_with_finite_gradients_at_extreme_parameters(kind):
    """Edges (0, 1), tiny and huge scales, means far outside [0, 1]: no NaN or inf in float32, nor in gradients."""
    x = torch.tensor([0.0, 1.0, 0.5, 1 / 255, 254 / 255]).view(5, 1, 1, 1)
    means = torch.tensor([-1e4, -3.0, 0.0, 0.5 + 1e-6, 1.0, 4.0, 1e4])
    log_scales = torch.tensor([-80.0, -30.0, -8.0, -5.0, 0.0, 5.0, 30.0])
    m, ls = torch.meshgrid(means, log_scales, indexing="ij")  # (7, 7) parameter pairs
    m = m.reshape(1, 1, 49).clone().requires_grad_()  # (C=1, H=1, W=49): one pixel per pair
    ls = ls.reshape(1, 1, 49).clone().requires_grad_()
    if kind == "logistic":
        px = DiscretizedLogisticMixture(torch.zeros(1, 1, 49, 2), torch.stack([m, m + 0.1], -1), ls[..., None], 256)
    else:
        px = DiscretizedGaussian(m, ls.clamp(max=80).exp(), 256)
    log_p = px.log_bin_prob(x)  # (5, 1, 1, 49)
    assert torch.isfinite(log_p).all() and (log_p <= 0).all()
    log_p.sum().backward()
    assert torch.isfinite(m.grad).all() and torch.isfinite(ls.grad).all()


@pytest.mark.parametrize("kind", ["logistic", "gaussian"])
def test_float32_agrees_with_float64_including_small_probability_bins(kind):
    """Narrow scales put bins deep in the tails (log-probabilities down to -4e5): float32 keeps their digits."""
    g = torch.Generator().manual_seed(5)
    mean = torch.rand(1, 8, 8, generator=g, dtype=torch.float64)
    log_scale = torch.rand(1, 8, 8, generator=g, dtype=torch.float64) * 6 - 7  # scales 1e-3 .. 0.4
    x = torch.arange(256, dtype=torch.float64).view(256, 1, 1, 1) / 255

    def log_p(dtype):
        m, ls = mean.to(dtype), log_scale.to(dtype)
        if kind == "logistic":
            return DiscretizedLogisticMixture(torch.zeros_like(m)[..., None], m[..., None], ls[..., None], 256)
        return DiscretizedGaussian(m, ls.exp(), 256)

    exact = log_p(torch.float64).log_bin_prob(x)  # down to about -1e3 (logistic) and -4e5 (Gaussian) nats
    approx = log_p(torch.float32).log_bin_prob(x.float()).double()
    assert ((approx - exact).abs() / (1 + exact.abs())).max() < 1e-4  # float32's rounding of the inputs, no worse


@pytest.mark.parametrize(("kind", "options"), CASES)
def test_samples_are_pixel_values_with_the_model_probabilities(kind, options):
    levels = 17
    h = head(levels, type=kind, **options)
    px = h(random_params(h, 1, seed=11, spread=0.5))
    g = torch.Generator().manual_seed(0)
    n = 20000
    x = px.sample((n,), generator=g)  # (n, 1, C, H, W)
    assert x.shape == (n, 1, *SHAPE)
    v = x * (levels - 1)
    assert torch.equal(v, v.round()) and x.min() >= 0 and x.max() <= 1
    counts = torch.stack([(v == k).double().mean(0) for k in range(levels)])  # (L, 1, C, H, W) frequencies
    probs = px.log_bin_prob(all_values(levels)).exp()[:, None]  # (L, 1, C, H, W)
    # the largest deviation over 17 x 12 cells: a binomial standard error bound, 5 sigma
    assert (counts - probs).abs().max() < 5 * math.sqrt(0.25 / n)
    torch.testing.assert_close(px.mean, (probs * all_values(levels)[:, None]).sum(0), atol=1e-9, rtol=0)


def test_log_prob_broadcasts_z_samples_against_the_batch():
    """Parameters (S, B, C', H, W) against x (B, C, H, W) give log_prob (S, B), as the Bernoulli and Gaussian do."""
    h = head(256, type="discretized_logistic", components=3)
    params = torch.randn(4, 5, *h.parameter_shape, dtype=torch.float64)
    x = torch.randint(0, 256, (5, *SHAPE)).double() / 255
    lp = h(params).log_prob(x)
    assert lp.shape == (4, 5)
    torch.testing.assert_close(lp[2], h(params[2]).log_prob(x))
    assert h(params).mean.shape == (4, 5, *SHAPE)


@pytest.mark.parametrize(
    ("kind", "support"),
    [
        ("bernoulli", "binary"),
        ("gaussian", "real"),
        ("discretized_logistic", "levels"),
        ("discretized_gaussian", "levels"),
    ],
)
def test_each_likelihood_declares_its_support(kind, support):
    assert likelihood_support(kind) == support


def test_discretized_likelihoods_refuse_unknown_levels_and_bad_options():
    for kind in ("discretized_logistic", "discretized_gaussian"):
        with pytest.raises(ConfigError, match="levels"):
            build_likelihood(LikelihoodConfig(type=kind, levels=0), SHAPE)
    with pytest.raises(ConfigError, match="components"):
        build_likelihood(LikelihoodConfig(type="discretized_logistic", levels=256, components=0), SHAPE)
    with pytest.raises(ConfigError, match="learn_sigma"):
        build_likelihood(LikelihoodConfig(type="discretized_logistic", levels=256, learn_sigma="shared"), SHAPE)


@pytest.mark.parametrize("network", ["mlp", "conv"])
@pytest.mark.parametrize("model_type", ["vae", "cvae", "hvae"])
def test_models_decode_to_the_parameters_the_head_needs(model_type, network):
    cfg = ModelConfig(type=model_type, latent_dim=3, num_classes=2 if model_type == "cvae" else 0)
    cfg.network.type, cfg.network.hidden, cfg.network.channels = network, [16], [4, 8]
    if model_type == "hvae":  # the other models take no model.hierarchy
        cfg.hierarchy.upper_dims, cfg.hierarchy.hidden = [2], [8]
    cfg.likelihood = LikelihoodConfig(type="discretized_logistic", components=2, levels=256)
    model = build_model(cfg, (3, 8, 8), seed=0)
    x = torch.randint(0, 256, (4, 3, 8, 8)).float() / 255
    cond = {"y": torch.tensor([0, 1, 0, 1])} if model_type == "cvae" else {}
    z = model.posterior(x, **cond).sample((2,))  # (2, 4, D)
    lp = model.likelihood(z, **cond).log_prob(x)
    assert lp.shape == (2, 4) and torch.isfinite(lp).all()


def test_gaussian_heads_keep_their_weights_when_sigma_is_not_from_the_decoder():
    """learn_sigma none/shared/per_pixel build the decoder as before (one network call), so seeds give the same
    weights as before this head existed; the discretized Gaussian reads the Gaussian's parameters unchanged."""
    cfg = ModelConfig(latent_dim=3)
    cfg.network.hidden = [16]
    cfg.likelihood = LikelihoodConfig(type="gaussian", learn_sigma="per_pixel", levels=256)
    gaussian = build_model(cfg, (1, 4, 4), seed=0)
    cfg.likelihood.type = "discretized_gaussian"
    discretized = build_model(cfg, (1, 4, 4), seed=0)
    cfg.likelihood.type = "bernoulli"
    cfg.likelihood.learn_sigma = "none"
    bernoulli = build_model(cfg, (1, 4, 4), seed=0)
    for name, value in bernoulli.state_dict().items():
        torch.testing.assert_close(gaussian.state_dict()[name], value)
    assert gaussian.state_dict().keys() == discretized.state_dict().keys()
