"""Runs of the models added to the contract (VampPrior VAE, hierarchical VAE, conditional VAE): exact resume and
the evaluation report; and the exact resume of a VQ-VAE's second stage (train-prior)."""

import json
import math
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from tiny_configs import TINY_VQ_RUN
from vaekit import load_run, resume, train
from vaekit.config import load_config
from vaekit.errors import RunError
from vaekit.run import METRICS, PRIOR, PRIOR_METRICS
from vaekit.workflow.evaluation import evaluate_run
from vaekit.workflow.prior import train_prior

MODELS = {
    "vamp": ["model.prior.type=vamp", "model.prior.components=4"],
    "hvae": ["model.type=hvae", "model.hierarchy.upper_dims=[2]", "model.hierarchy.hidden=[8]"],
    "cvae": ["model.type=cvae"],
}
BASE = ["model.latent_dim=2", "model.network.hidden=[16]", "train.batch_size=32", "train.progress=false",
        "train.num_sample_images=4"]  # fmt: skip


def labelled_npz(path):
    """96 training and 24 test 8x8 uint8 images with labels in 0..2."""
    rng = np.random.default_rng(0)
    np.savez(
        path,
        x_train=rng.integers(0, 256, (96, 8, 8), dtype=np.uint8),
        y_train=rng.integers(0, 3, 96),
        x_test=rng.integers(0, 256, (24, 8, 8), dtype=np.uint8),
        y_test=rng.integers(0, 3, 24),
    )
    return path


def config_for(name, tmp_path, tiny_images, epochs):
    source = labelled_npz(tmp_path / "labelled.npz") if name == "cvae" else tiny_images
    return load_config(overrides=[f"data.source={source}", *BASE, *MODELS[name], f"train.epochs={epochs}"])


def weights(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.parametrize("name", list(MODELS))
def test_new_model_resume_equals_uninterrupted(tmp_path, tiny_images, name):
    full = weights(train(config_for(name, tmp_path, tiny_images, 3), tmp_path / "full").model)
    train(config_for(name, tmp_path, tiny_images, 1), tmp_path / "cut")
    resumed = resume(tmp_path / "cut", epochs=3)
    assert_same(full, weights(resumed.model))
    assert [m["epoch"] for m in resumed.metrics()] == [1, 2, 3]
    if name == "vamp":
        assert any(k.startswith("latent_prior.") for k in full)  # the pseudo-inputs are trained and resumed


@pytest.mark.parametrize("name", list(MODELS))
def test_new_model_evaluation_report(tmp_path, tiny_images, name):
    run = train(config_for(name, tmp_path, tiny_images, 1), tmp_path / "run")
    report = evaluate_run(run, iw_samples=5, batch_size=10)
    for key in ("elbo", "log_likelihood", "reconstruction", "kl", "elbo_gap", "nats_per_dim"):
        assert math.isfinite(report[key]), key
    assert "bits_per_dim" not in report and "not a likelihood" in report["per_dim_unit"]  # grey pixels, Bernoulli
    assert report["elbo"] == pytest.approx(report["reconstruction"] - report["kl"], rel=1e-6)
    assert report["num_examples"] == 24 if name == "cvae" else 12
    if name == "hvae":
        assert len(report["kl_per_layer"]) == 2 and report["layer_dims"] == [2, 2]
        assert sum(report["kl_per_layer"]) == pytest.approx(report["kl"], rel=1e-6)
    else:
        assert "kl_per_layer" not in report
    if name == "vamp":
        assert "kl_per_dim" not in report
    else:
        assert ("kl_per_dim" in report) == (name == "cvae")
    if name == "cvae":
        assert report["conditioned_on"] == ["y"]
    else:
        assert "conditioned_on" not in report


# The VQ-VAE's second stage.


@pytest.fixture(scope="module")
def trained_vq_run(tmp_path_factory):
    """A one-epoch VQ-VAE run without a prior, trained once for this module; tests use copies of it."""
    base = tmp_path_factory.mktemp("vq")
    data = base / "tiny.npy"
    np.save(data, np.random.default_rng(0).integers(0, 256, size=(120, 8, 8), dtype=np.uint8))
    config = load_config(overrides=[f"data.source={data}", "train.epochs=1", *TINY_VQ_RUN])
    train(config, base / "run")
    return base / "run"


@pytest.fixture
def vq_run(tmp_path, trained_vq_run):
    shutil.copytree(trained_vq_run, tmp_path / "vq")
    return tmp_path / "vq"


def prior_lines(path):
    return [json.loads(line) for line in (path / PRIOR_METRICS).read_text().splitlines() if line.strip()]


def test_train_prior_resume_equals_uninterrupted(tmp_path, vq_run):
    cut = tmp_path / "cut"
    shutil.copytree(vq_run, cut)
    train_prior(vq_run, epochs=3)
    train_prior(cut, epochs=1)
    assert [m["epoch"] for m in prior_lines(cut)] == [1]
    resumed = train_prior(cut, epochs=3, resume=True)
    full, again = load_file(str(vq_run / PRIOR)), load_file(str(cut / PRIOR))
    assert full.keys() == again.keys()
    for k in full:
        assert torch.equal(full[k], again[k]), k
    assert [m["epoch"] for m in prior_lines(vq_run)] == [1, 2, 3]
    assert [m["epoch"] for m in prior_lines(cut)] == [1, 2, 3]
    assert resumed.model.prior_name == "pixelcnn"
    assert load_run(cut).config.prior.epochs == 3


def test_train_prior_resume_needs_prior_training_state_and_excludes_force(tmp_path, vq_run):
    with pytest.raises(RunError, match="no prior training to resume"):
        train_prior(vq_run, resume=True)
    assert not (vq_run / PRIOR).exists()
    with pytest.raises(RunError, match="--resume"):
        train_prior(vq_run, resume=True, force=True)
    assert not (vq_run / PRIOR).exists() and (vq_run / METRICS).exists()
