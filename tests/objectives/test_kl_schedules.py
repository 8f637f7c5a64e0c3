"""The KL weight's schedules: linear from a start (He et al. 2019), cyclical (Fu et al. 2019), and an autoencoder
phase first (Li et al. 2019), each at chosen steps; the config keys that choose them, and their refusals."""

import pytest

from vaekit.config import load_config
from vaekit.errors import ConfigError
from vaekit.models import capabilities
from vaekit.objectives import build_objective
from vaekit.objectives.base import cyclical_ramp, linear_ramp


def elbo(*overrides: str, steps_per_epoch: int = 10):
    cfg = load_config(overrides=list(overrides))
    return build_objective(cfg.objective, steps_per_epoch, capabilities=capabilities(cfg.model))


@pytest.mark.parametrize(
    ("step", "weight"), [(0, 0.1), (1, 0.1 + 0.9 / 40), (20, 0.55), (39, 0.1 + 0.9 * 39 / 40), (40, 1.0), (10**6, 1.0)]
)
def test_linear_warmup_from_a_tenth(step, weight):
    objective = elbo("objective.warmup_epochs=4", "objective.warmup_start=0.1")  # 40 steps
    assert objective.kl_weight(step) == pytest.approx(weight, abs=1e-12)


def test_linear_warmup_keeps_its_default_start_at_zero_and_scales_with_beta():
    objective = elbo("objective.warmup_steps=10", "objective.beta=4")
    assert [objective.kl_weight(s) for s in (0, 5, 10)] == pytest.approx([0.0, 2.0, 4.0])


# 100 steps in M = 4 cycles of 25, rising over the first R = 0.5 of each (12.5 steps), then holding 1.
@pytest.mark.parametrize(
    ("step", "weight"),
    [(0, 0.0), (5, 0.4), (12, 0.96), (13, 1.0), (24, 1.0), (25, 0.0), (30, 0.4), (50, 0.0), (87, 0.96), (99, 1.0)]
    + [(100, 1.0), (1000, 1.0)],
)
def test_cyclical_schedule_at_chosen_steps(step, weight):
    objective = elbo("objective.warmup_schedule=cyclical", "objective.warmup_steps=100")
    assert objective.kl_weight(step) == pytest.approx(weight, abs=1e-12)
    assert cyclical_ramp(step, 100, 4, 0.5) == pytest.approx(weight, abs=1e-12)


def test_cyclical_schedule_with_other_cycles_ratio_and_start():
    # 3 cycles of 20 steps over 6 epochs of 10 steps, rising over the first 0.25 (5 steps) from 0.2
    objective = elbo(
        "objective.warmup_schedule=cyclical",
        "objective.warmup_epochs=6",
        "objective.warmup_cycles=3",
        "objective.warmup_cycle_ratio=0.25",
        "objective.warmup_start=0.2",
    )
    got = [objective.kl_weight(s) for s in (0, 1, 4, 5, 19, 20, 22, 40, 45, 60)]
    assert got == pytest.approx([0.2, 0.36, 0.84, 1.0, 1.0, 0.2, 0.52, 0.2, 1.0, 1.0])
    # a ratio of 1: each cycle is one linear ramp (the sawtooth)
    assert [cyclical_ramp(s, 40, 2, 1.0) for s in (0, 10, 19, 20, 30)] == pytest.approx([0, 0.5, 0.95, 0, 0.5])


def test_autoencoder_pretraining_keeps_the_kl_weight_at_zero_then_starts_the_warmup():
    # 2 epochs of 10 steps as an autoencoder, then the warm-up from 0.1 over 10 steps counted from there
    objective = elbo("objective.pretrain_epochs=2", "objective.warmup_steps=10", "objective.warmup_start=0.1")
    assert objective.pretrain_steps == 20
    got = [objective.kl_weight(s) for s in (0, 19, 20, 25, 30, 500)]
    assert got == pytest.approx([0.0, 0.0, 0.1, 0.55, 1.0, 1.0])
    assert elbo("objective.pretrain_epochs=1").kl_weight(9) == 0.0
    assert elbo("objective.pretrain_epochs=1").kl_weight(10) == 1.0


def test_linear_ramp_is_one_throughout_without_a_length():
    assert linear_ramp(0, 0, 0.1) == 1.0 and cyclical_ramp(0, 0, 4, 0.5) == 1.0


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (["objective.warmup_schedule=cyclical"], "warmup_epochs"),
        (["objective.warmup_schedule=sawtooth"], "linear, cyclical"),
        (["objective.warmup_start=1.5"], r"\[0, 1\]"),
        (["objective.warmup_cycle_ratio=0", "objective.warmup_steps=5"], r"\(0, 1\]"),
        (["objective.warmup_cycles=0"], "positive"),
        (["objective.name=iwae", "objective.pretrain_epochs=2"], "pretrain_epochs"),
        (["model.prior.type=vamp", "model.posterior_bn_gamma=0.5"], "standard_normal"),
        (["model.type=hvae", "model.posterior_bn_gamma=0.5"], "posterior_bn_gamma"),
        (["train.aggressive_max_steps=0"], "at least 1"),
    ],
)
def test_bad_schedule_keys_are_refused_with_what_to_do(overrides, match):
    with pytest.raises(ConfigError, match=match):
        load_config(overrides=overrides)
