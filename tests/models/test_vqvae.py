"""The VQ-VAE model: shapes of its uses, a normalized p(x|z_q), the prior it samples from, what its weights hold."""

import math

import pytest
import torch

from tiny_configs import TINY_PRIOR, TINY_VQ
from vaekit.config import load_config
from vaekit.errors import ConfigError
from vaekit.models import VQVAE, build_code_prior, build_model

TINY = [*TINY_VQ, *TINY_PRIOR]


def tiny_vqvae(shape=(1, 8, 8), *extra: str) -> VQVAE:
    cfg = load_config(overrides=[*TINY, *extra])
    return build_model(cfg.model, shape, seed=0).eval()


def images(n: int, shape=(1, 8, 8), seed: int = 0) -> torch.Tensor:
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(seed)).round()


def test_vqvae_is_registered_and_its_uses_have_the_documented_shapes():
    model = tiny_vqvae()
    assert isinstance(model, VQVAE) and model.code_shape == (2, 2)
    x = images(5)
    codes = model.encode_codes(x)
    assert codes.shape == (5, 2, 2) and codes.dtype == torch.int64
    assert codes.min() >= 0 and codes.max() < 6
    assert model.decode_codes(codes).shape == (5, 1, 8, 8)
    torch.testing.assert_close(model.reconstruct(x), model.decode_codes(codes))
    q = model.quantize(x)
    assert torch.equal(q.codes, codes)
    assert model.likelihood(q.z_q).log_prob(x).shape == (5,)


def test_bernoulli_likelihood_of_the_decoded_codes_sums_to_one_over_every_binary_image():
    model = tiny_vqvae((1, 4, 4)).double()
    z_q = model.quantizer.lookup(torch.tensor([[[3]]]))  # (1, D, 1, 1): one code map
    bits = torch.arange(2**16)[:, None] >> torch.arange(16)  # (65536, 16)
    every_image = (bits & 1).double().view(-1, 1, 4, 4)
    log_p = model.likelihood(z_q).log_prob(every_image)  # (65536,), broadcast over the one code map
    torch.testing.assert_close(torch.logsumexp(log_p, 0), torch.zeros((), dtype=torch.float64))


def test_gaussian_likelihood_has_its_normalizing_constant():
    model = tiny_vqvae((1, 4, 4), "model.likelihood.type=gaussian", "model.likelihood.sigma=0.5")
    x = images(2, (1, 4, 4))
    q = model.quantize(x)
    mean = model.decoder(q.z_q)
    by_hand = (-0.5 * ((x - mean) / 0.5) ** 2 - math.log(0.5) - 0.5 * math.log(2 * math.pi)).sum((1, 2, 3))
    torch.testing.assert_close(model.likelihood(q.z_q).log_prob(x), by_hand)


def test_without_a_prior_samples_decode_uniform_codes_and_code_nll_is_hw_log_k():
    model = tiny_vqvae()
    assert model.prior_name == "uniform"
    a = model.sample(4, torch.Generator().manual_seed(0))
    b = model.sample(4, torch.Generator().manual_seed(0))
    assert a.shape == (4, 1, 8, 8) and torch.equal(a, b) and 0 <= a.min() and a.max() <= 1
    codes = torch.randint(0, 6, (4, 2, 2), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(model.sample(4, torch.Generator().manual_seed(0)), model.decode_codes(codes))
    torch.testing.assert_close(model.code_log_prob(codes), torch.full((4,), -4 * math.log(6)))


def test_with_a_prior_samples_decode_the_prior_s_codes_and_code_nll_is_its_log_prob():
    model = tiny_vqvae()
    prior = build_code_prior(load_config(overrides=TINY).prior, num_codes=6, seed=1)
    model.attach_prior(prior)
    assert model.prior_name == "pixelcnn"
    codes = prior.sample(3, (2, 2), generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(model.sample(3, torch.Generator().manual_seed(2)), model.decode_codes(codes))
    torch.testing.assert_close(model.code_log_prob(codes), prior.log_prob(codes))
    with pytest.raises(ValueError, match="codes"):
        model.attach_prior(build_code_prior(load_config(overrides=TINY).prior, num_codes=7))


def test_weights_hold_the_ema_statistics_and_not_the_prior():
    model = tiny_vqvae()
    keys = set(model.state_dict())
    for name in ("codebook", "cluster_size", "embed_sum", "code_usage", "usage_started"):
        assert f"quantizer.{name}" in keys
    assert not any(k.startswith("code_prior") for k in keys)
    no_ema = tiny_vqvae((1, 8, 8), "model.vq.ema=false")
    assert "quantizer.codebook" in dict(no_ema.named_parameters())


def test_same_seed_same_weights():
    a, b = tiny_vqvae().state_dict(), tiny_vqvae().state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_sides_not_divisible_by_four_give_a_code_map_of_the_rounded_up_size():
    model = tiny_vqvae((1, 6, 9))
    assert model.code_shape == (2, 3)
    assert model.encode_codes(images(2, (1, 6, 9))).shape == (2, 2, 3)
    assert model.sample(2, generator=torch.Generator().manual_seed(0)).shape == (2, 1, 6, 9)


@pytest.mark.parametrize(
    "overrides, words",
    [
        (["model.type=vqvae"], ["objective.name=vq"]),
        (["objective.name=vq"], ["model.type=vqvae"]),
        ([*TINY, "model.vq.num_codes=0"], ["model.vq.num_codes", "positive"]),
        ([*TINY, "model.vq.decay=1.5"], ["model.vq.decay"]),
        ([*TINY, "objective.revive_every=-1"], ["objective.revive_every"]),
        ([*TINY, "prior.epochs=-1"], ["prior.epochs"]),
        ([*TINY, "model.vq.num_cods=3"], ["model.vq.num_cods", "num_codes"]),
    ],
)
def test_bad_vq_config_names_the_key(overrides, words):
    with pytest.raises(ConfigError) as err:
        load_config(overrides=overrides)
    for word in words:
        assert word in str(err.value)


def test_preset_is_a_valid_vqvae_config_whose_first_line_is_the_command():
    from importlib import resources

    cfg = load_config(preset="mnist-vqvae")
    assert (cfg.model.type, cfg.objective.name, cfg.objective.commitment) == ("vqvae", "vq", 0.25)
    assert cfg.data.binarize == "dynamic"
    text = (resources.files("vaekit") / "presets" / "mnist-vqvae.yaml").read_text()
    assert text.startswith("# vaekit train --preset mnist-vqvae")
