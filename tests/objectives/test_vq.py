"""The vq objective and the prior's objective: the loss is the paper's sum, revival happens on schedule."""

import math

import pytest
import torch

from tiny_configs import TINY_VQ
from vaekit.config import load_config
from vaekit.errors import ConfigError
from vaekit.models import build_code_prior, build_model, capabilities
from vaekit.objectives import PriorNll, build_objective, vq_terms

TINY = TINY_VQ


def setup(*extra: str):
    cfg = load_config(overrides=[*TINY, *extra])
    model = build_model(cfg.model, (1, 8, 8), seed=0)
    return model, build_objective(cfg.objective, capabilities=capabilities(cfg.model))


def images(n: int = 4) -> torch.Tensor:
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(0)).round()


@pytest.mark.parametrize("ema", ["true", "false"])
def test_loss_is_reconstruction_plus_codebook_plus_beta_commitment(ema):
    model, objective = setup(f"model.vq.ema={ema}", "objective.commitment=0.25")
    model.eval()  # no statistics update, so the two evaluations below see the same codebook
    x = images()
    out = objective(model, x, step=0, generator=torch.Generator())
    t = vq_terms(model, x)
    by_hand = (-t.log_px_z + t.codebook_loss + 0.25 * t.commitment_loss).mean()
    torch.testing.assert_close(out.loss, by_hand)
    torch.testing.assert_close(out.metrics["reconstruction"], t.log_px_z.mean())
    for name in ("reconstruction", "codebook_loss", "commitment_loss", "perplexity", "dead_codes"):
        assert out.metrics[name].shape == () and not out.metrics[name].requires_grad
    assert 1.0 <= float(out.metrics["perplexity"]) <= 6.0


def test_commitment_weight_scales_only_the_encoder_s_commitment_gradient():
    x = images()
    grads = {}
    for beta in (0.0, 1.0):
        model, objective = setup(f"objective.commitment={beta}")
        model.eval()
        loss = objective(model, x, step=0, generator=torch.Generator()).loss
        grads[beta] = torch.autograd.grad(loss, model.decoder.net[0].weight)[0]
    # the decoder sees z_q, whose value does not depend on beta: its gradient does not change
    torch.testing.assert_close(grads[0.0], grads[1.0])


def test_dead_codes_are_revived_every_revive_every_steps_in_training_only():
    model, objective = setup("objective.revive_every=3", "objective.revive_threshold=1.0")
    vq, x = model.quantizer, images()
    model.train()
    out = objective(model, x, step=0, generator=torch.Generator().manual_seed(0))  # not yet: the 3rd step is step 2
    dead = vq.dead_codes(1.0).clone()
    assert dead.any() and out.metrics["dead_codes"] == float(dead.sum())
    out = objective(model, x, step=2, generator=torch.Generator().manual_seed(0))
    assert out.metrics["dead_codes"] == float(dead.sum())  # counted before revival
    assert not vq.dead_codes(1.0).any()
    z_e = vq.flatten(model.encoder(x)).detach()  # (N, D): no optimizer step, so the same encoder outputs
    for row in vq.codebook[dead]:  # each revived code is one of this batch's encoder outputs
        assert torch.isclose(z_e, row).all(1).any()
    model.eval()
    vq.code_usage.zero_()
    frozen = vq.codebook.clone()
    objective(model, x, step=2, generator=torch.Generator())
    assert torch.equal(vq.codebook, frozen)


def test_revival_is_reproducible_from_the_generator():
    codebooks = []
    for _ in range(2):
        model, objective = setup("objective.revive_every=1")
        model.train()
        objective(model, images(), step=0, generator=torch.Generator().manual_seed(5))
        codebooks.append(model.quantizer.codebook.clone())
    assert torch.equal(*codebooks)


@pytest.mark.parametrize("override", ["objective.beta=2", "objective.free_bits=0.5", "objective.num_samples=3"])
def test_vq_objective_refuses_elbo_settings(override):
    with pytest.raises(ConfigError, match="objective.name=vq"):
        setup(override)


def test_prior_nll_is_minus_the_mean_log_prob():
    cfg = load_config(overrides=[*TINY, "prior.hidden_channels=8", "prior.num_layers=2"])
    prior = build_code_prior(cfg.prior, num_codes=6)
    codes = torch.randint(0, 6, (5, 2, 3), generator=torch.Generator().manual_seed(0))
    out = PriorNll()(prior, codes, step=0, generator=None)
    torch.testing.assert_close(out.loss, -prior.log_prob(codes).mean())
    torch.testing.assert_close(out.metrics["bits_per_code"], out.loss.detach() / (6 * math.log(2)))
