"""The remedies that act around the epochs: autoencoder pretraining then a fresh decoder (Li et al. 2019) and
aggressive inference-network updates (He et al. 2019); the per-epoch KL, I(x; z) and active units; the collapse
message that names every remedy by its config keys."""

import re

import pytest
import torch

from vaekit import resume, train
from vaekit.config import load_config
from vaekit.evaluate.diagnostics import collapse_warning
from vaekit.objectives import LossOutput
from vaekit.train.loop import InnerSteps, LossModule, inner_updates
from vaekit.workflow.fit import fit
from vaekit.workflow.training import prepare


def weights(run) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in run.model.state_dict().items()}


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def state_of(modules) -> list[torch.Tensor]:
    return [t.detach().clone() for m in modules for t in m.state_dict().values()]


def test_every_epoch_logs_kl_mutual_information_and_active_units(tmp_path, tiny_config):
    lines: list[str] = []
    run = train(tiny_config, tmp_path / "run", log=lines.append)
    for record in run.metrics():
        assert {"test_kl", "test_mi", "test_active_units"} <= record.keys()
        assert 0 <= record["test_active_units"] <= tiny_config.model.latent_dim
        assert record["test_mi"] <= torch.log(torch.tensor(12.0)).item() + 1e-6  # at most log of the 12 test images
    assert any(re.search(r"KL [\d.]+  MI -?[\d.]+  AU \d", line) for line in lines)


def test_pretraining_ends_by_returning_the_decoder_to_its_initial_weights(tmp_path, tiny_config):
    tiny_config.objective.pretrain_epochs = 1
    tiny_config.objective.free_bits = 0.1
    p = prepare(tiny_config)
    model, hooks = p.model, p.stage.hooks
    initial_decoder = state_of(model.generative_modules())
    p.stage.epochs = 1
    assert hooks.start_epoch(1) is None  # nothing happens before or during pretraining
    fit(p.stage, tmp_path)
    trained_decoder, trained_encoder = (
        state_of(model.generative_modules()),
        [p.detach().clone() for p in model.inference_parameters()],
    )
    assert any(not torch.equal(a, b) for a, b in zip(trained_decoder, initial_decoder, strict=True))
    assert len(p.stage.optimizer.state) > 0
    hooks.start_epoch(2)
    assert all(torch.equal(a, b) for a, b in zip(state_of(model.generative_modules()), initial_decoder, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(model.inference_parameters(), trained_encoder, strict=True))
    assert len(p.stage.optimizer.state) == 0  # Adam's moments belonged to the old decoder: a fresh start
    objective = p.stage.loss_module.objective  # 108 training images in batches of 32: 4 steps an epoch
    assert objective.kl_weight(3) == 0.0 and objective.kl_weight(4) == 1.0  # KL off in epoch 1, on from epoch 2


@pytest.mark.parametrize("cut", [2, 3])  # at the switch (the last autoencoder epoch), and after it
def test_pretraining_resumes_exactly_across_the_switch(tmp_path, tiny_config, cut):
    tiny_config.objective.pretrain_epochs = 2
    tiny_config.objective.free_bits = 0.1
    tiny_config.train.epochs = 4
    lines: list[str] = []
    full = weights(train(tiny_config, tmp_path / "full", log=lines.append))
    assert sum("decoder is re-initialized" in line for line in lines) == 1
    tiny_config.train.epochs = cut
    train(tiny_config, tmp_path / "cut")
    assert_same(full, weights(resume(tmp_path / "cut", epochs=4)))


class RisingAfterTwoWindows:
    """A test objective whose loss is 5, 4, 3, 2, 3, 4, ... at successive calls (and whose gradient moves every
    parameter): windows of two steps average 4.5, 2.5, 3.5, so He et al.'s rule stops after the sixth step."""

    def __init__(self) -> None:
        self.values = [5.0, 4.0, 3.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
        self.calls = 0

    def __call__(self, model, x, *, step, generator) -> LossOutput:
        value = self.values[self.calls]
        self.calls += 1
        return LossOutput(sum(p.sum() for p in model.parameters()) * 1e-3 + value, {})


def test_inner_steps_move_the_inference_network_alone_and_stop_when_the_loss_rises(tiny_vae):
    model = tiny_vae
    module = LossModule(model, RisingAfterTwoWindows())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    encoder = [p.detach().clone() for p in model.inference_parameters()]
    rest = {
        n: p.detach().clone()
        for n, p in model.named_parameters()
        if all(p is not q for q in model.inference_parameters())
    }
    x = torch.rand(8, 1, 4, 4)
    fresh = iter([(torch.rand(8, 1, 4, 4), None) for _ in range(20)])
    inner = InnerSteps(tuple(model.inference_parameters()), max_steps=100, check_every=2)
    taken = inner_updates(module, optimizer, inner, (x, None), fresh, 0, torch.Generator())
    assert taken == 6 and module.objective.calls == 6
    assert all(not torch.equal(a, b) for a, b in zip(model.inference_parameters(), encoder, strict=True))
    assert rest and all(torch.equal(p, rest[n]) for n, p in model.named_parameters() if n in rest)
    # without a rise, at most max_steps - 1 steps (He et al.: while sub_iter < 100)
    module = LossModule(model, lambda m, x, step, generator: LossOutput(sum(p.sum() for p in m.parameters()), {}))
    fresh = iter([(x, None)] * 10)
    assert inner_updates(module, optimizer, InnerSteps(inner.params, max_steps=5), (x, None), fresh, 0, None) == 4


def test_aggressive_training_runs_and_resumes_exactly(tmp_path, tiny_config):
    tiny_config.train.aggressive = True
    tiny_config.train.aggressive_max_steps = 8
    tiny_config.train.epochs = 3
    full_run = train(tiny_config, tmp_path / "full")
    records = full_run.metrics()
    assert records[0]["train_inner_steps"] > 0  # the first epoch is aggressive
    full = weights(full_run)
    tiny_config.train.epochs = 1
    train(tiny_config, tmp_path / "cut")
    assert_same(full, weights(resume(tmp_path / "cut", epochs=3)))


def test_the_aggressive_phase_ends_when_the_held_out_mi_falls_and_stays_ended_on_resume(tmp_path, tiny_config):
    tiny_config.train.aggressive = True
    hooks = prepare(tiny_config).stage.hooks
    assert isinstance(hooks.start_epoch(1), InnerSteps)
    hooks.end_epoch(1, {"mi": 0.5})
    hooks.end_epoch(2, {"mi": 0.7})
    assert hooks.aggressive and isinstance(hooks.start_epoch(3), InnerSteps)
    hooks.end_epoch(3, {"mi": 0.6})  # fell: the phase ends
    assert hooks.start_epoch(4) is None
    again = prepare(tiny_config).stage.hooks
    again.load_state(hooks.state())
    assert again.start_epoch(4) is None and again.previous_mi == 0.6


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (["train.aggressive=true", "model.type=hvae", "model.hierarchy.upper_dims=[2]"], "networks"),
        (["objective.pretrain_epochs=1", "model.type=hvae", "model.hierarchy.upper_dims=[2]"], "networks"),
    ],
)
def test_a_model_without_separate_networks_is_refused_before_anything_is_written(
    tmp_path, tiny_config, overrides, match
):
    config = load_config(overrides=[f"data.source={tiny_config.data.source}", *overrides])
    with pytest.raises(Exception, match=match):
        train(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_the_collapse_message_names_every_remedy_by_config_keys_that_exist():
    message = collapse_warning(torch.tensor([0.001, 0.0], dtype=torch.float64), "sequence")
    for key in (
        "objective.warmup_start",
        "objective.warmup_schedule=cyclical",
        "objective.free_bits",
        "objective.pretrain_epochs",
        "train.aggressive",
        "model.posterior_bn_gamma",
        "model.likelihood.word_dropout",
    ):
        assert key in message
    assert "learn_sigma" in collapse_warning(torch.zeros(2), "table") and "learn_sigma" not in message
    overrides = re.findall(r"\b([a-z_]+\.[a-z_.]+=[\w.]+)", message)
    assert len(overrides) >= 10
    # each named setting is one a config takes, all at once too (word dropout with the likelihood of tokens)
    load_config(overrides=["model.likelihood.type=tokens", "model.network.type=recurrent", *overrides])
