"""Training runs: determinism, exact resume, run-directory safety."""

import json

import pytest
import torch

from vaekit import load_run, resume, train
from vaekit.errors import RunError
from vaekit.run import METRICS, SAMPLES, STATE, WEIGHTS


def weights(run):
    return {k: v.clone() for k, v in run.model.state_dict().items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_run_directory_holds_config_weights_state_metrics_samples(tmp_path, tiny_config):
    run = train(tiny_config, tmp_path / "run")
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"config.yaml", WEIGHTS, STATE, METRICS, SAMPLES} <= names
    lines = run.metrics()
    assert [m["epoch"] for m in lines] == [1, 2]
    for key in (
        "train_elbo",
        "test_elbo",
        "train_reconstruction",
        "test_kl",
        "train_seconds",
        "test_seconds",
    ):
        assert key in lines[0]
    m = lines[-1]
    assert m["test_elbo"] == pytest.approx(m["test_reconstruction"] - m["test_kl"], abs=1e-3)


def test_same_seed_same_weights_other_seed_other_weights(tmp_path, tiny_config):
    a = weights(train(tiny_config, tmp_path / "a"))
    b = weights(train(tiny_config, tmp_path / "b"))
    assert_same(a, b)
    tiny_config.train.seed = 1
    c = weights(train(tiny_config, tmp_path / "c"))
    assert any(not torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("binarize", ["none", "dynamic"])
def test_resume_equals_uninterrupted(tmp_path, tiny_config, binarize):
    tiny_config.data.binarize = binarize
    tiny_config.train.epochs = 3
    full = weights(train(tiny_config, tmp_path / "full"))
    tiny_config.train.epochs = 1
    train(tiny_config, tmp_path / "cut")
    # a crash after the metrics line of epoch 2 but before its state: resume must drop that line
    with open(tmp_path / "cut" / METRICS, "a") as f:
        f.write(json.dumps({"epoch": 2, "test_elbo": 0.0}) + "\n")
    resumed = resume(tmp_path / "cut", epochs=3)
    assert_same(full, weights(resumed))
    assert [m["epoch"] for m in resumed.metrics()] == [1, 2, 3]


def test_existing_run_is_not_overwritten_without_force(tmp_path, tiny_config):
    train(tiny_config, tmp_path / "run")
    before = (tmp_path / "run" / WEIGHTS).read_bytes()
    with pytest.raises(RunError, match="--force"):
        train(tiny_config, tmp_path / "run")
    assert (tmp_path / "run" / WEIGHTS).read_bytes() == before
    tiny_config.train.seed = 3
    train(tiny_config, tmp_path / "run", force=True)
    assert (tmp_path / "run" / WEIGHTS).read_bytes() != before


def test_a_folder_that_is_not_a_run_is_never_deleted(tmp_path, tiny_config):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(RunError, match="not a vaekit run"):
        train(tiny_config, tmp_path / "mine", force=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_loaded_run_reproduces_samples_and_codes(tmp_path, tiny_config):
    run = train(tiny_config, tmp_path / "run")
    again = load_run(tmp_path / "run")
    g = lambda: torch.Generator().manual_seed(4)  # noqa: E731
    assert torch.equal(run.sample(6, generator=g()), again.sample(6, generator=g()))
    x = torch.rand(5, 1, 8, 8, generator=g())
    assert torch.equal(run.encode(x), again.encode(x))
    assert run.encode(x).shape == (5, 2)
