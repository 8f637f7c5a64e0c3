"""VQ-VAE runs: exact resume with EMA codebook and revival, the second stage, and its checkpoint's round trip."""

import json

import pytest
import torch
from safetensors import safe_open

from tiny_configs import TINY_VQ_RUN
from vaekit import load_run, resume, train
from vaekit.config import load_config
from vaekit.errors import RunError, VaekitError
from vaekit.run import PRIOR, PRIOR_METRICS, WEIGHTS
from vaekit.workflow.prior import train_prior

VQ = [*TINY_VQ_RUN, "prior.epochs=1"]


@pytest.fixture
def vq_config(tiny_images):
    return load_config(overrides=[f"data.source={tiny_images}", "train.epochs=2", *VQ])


def state(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_vq_run_logs_codebook_metrics_each_epoch(tmp_path, vq_config):
    run = train(vq_config, tmp_path / "run")
    m = run.metrics()[-1]
    for key in (
        "train_reconstruction",
        "train_perplexity",
        "train_dead_codes",
        "train_codebook_loss",
        "test_reconstruction",
        "test_commitment_loss",
    ):
        assert key in m
    assert m["train_reconstruction"] < 0 and 1 <= m["train_perplexity"] <= 8


@pytest.mark.parametrize("ema", ["true", "false"])
def test_resume_equals_uninterrupted(tmp_path, vq_config, ema):
    vq_config.model.vq.ema = ema == "true"
    vq_config.train.epochs = 3
    full = state(train(vq_config, tmp_path / "full").model)
    vq_config.train.epochs = 1
    train(vq_config, tmp_path / "cut")
    resumed = resume(tmp_path / "cut", epochs=3)
    assert_same(full, state(resumed.model))  # weights, EMA codebook statistics and usage, revived codes


def test_prior_round_trips_and_drives_sampling(tmp_path, vq_config):
    out = tmp_path / "run"
    trained = train(vq_config, out)
    assert trained.prior_note() is not None  # no prior yet: the user is told
    run = train_prior(out)
    assert run.model.prior_name == "pixelcnn" and run.prior_note() is None
    assert [m["epoch"] for m in map(json.loads, (out / PRIOR_METRICS).read_text().splitlines())] == [1]
    again = load_run(out)
    assert_same(state(run.model), state(again.model))  # model and prior weights
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    assert torch.equal(run.sample(4, g()), again.sample(4, g()))
    codes = again.model.code_prior.sample(4, (2, 2), generator=g())
    assert torch.equal(again.sample(4, g()), again.model.decode_codes(codes))
    with safe_open(str(out / PRIOR), "pt") as f:
        assert json.loads(f.metadata()["code_shape"]) == [2, 2]


def test_prior_is_not_overwritten_without_force_and_not_left_stale(tmp_path, vq_config):
    out = tmp_path / "run"
    train(vq_config, out)
    train_prior(out)
    before = (out / PRIOR).read_bytes()
    with pytest.raises(RunError, match="--force"):
        train_prior(out)
    assert (out / PRIOR).read_bytes() == before
    train_prior(out, epochs=2, force=True)
    assert load_run(out).config.prior.epochs == 2
    with pytest.raises(RunError, match="train-prior"):  # continuing stage one would leave the prior behind
        resume(out, epochs=3)
    other = tmp_path / "other"
    vq_config.train.seed = 7
    train(vq_config, other)
    (out / WEIGHTS).write_bytes((other / WEIGHTS).read_bytes())  # weights the prior never saw
    with pytest.raises(RunError, match="--force"):
        load_run(out)


def test_train_prior_refuses_a_vae_run(tmp_path, tiny_config):
    train(tiny_config, tmp_path / "vae")
    with pytest.raises(VaekitError, match="codes"):
        train_prior(tmp_path / "vae")
