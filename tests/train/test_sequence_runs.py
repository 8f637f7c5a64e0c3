"""Runs of the sequence models on a small text file: exact resume (word dropout drawn from the epoch's generator, the
VampPrior's pseudo-inputs in embedding space), the language model trained and evaluated by the same code, and the
evaluation report's units (nats per sentence, perplexity with <eos> counted, no bits/dim)."""

import math

import pytest
import torch

from vaekit import resume, train
from vaekit.config import load_config
from vaekit.workflow.evaluation import evaluate_run

RECURRENT = ["model.network.type=recurrent", "model.network.hidden=[12]", "model.network.embedding_dim=6"]
MODELS = {
    "vae": ["model.latent_dim=2", *RECURRENT, "model.likelihood.type=tokens", "model.likelihood.word_dropout=0.3"],
    "vamp": ["model.latent_dim=2", *RECURRENT, "model.prior.type=vamp", "model.prior.components=3"],
    "lm": ["model.type=lm", "model.network.hidden=[12]", "model.network.embedding_dim=6"],
}
BASE = ["train.batch_size=8", "train.progress=false", "train.num_sample_images=4"]


@pytest.fixture
def text(tmp_path):
    """60 sentences of two templates, one a line."""
    words = ["mat", "hat", "rug", "park", "lake"]
    lines = [f"the cat sat on the {words[i % 5]}" if i % 2 else f"a dog ran to the {words[i % 3]} today" for i in
             range(60)]  # fmt: skip
    path = tmp_path / "two.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def config_for(name, text, epochs):
    return load_config(overrides=[f"data.source={text}", *BASE, *MODELS[name], f"train.epochs={epochs}"])


def weights(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("name", list(MODELS))
def test_a_resumed_sequence_run_equals_the_uninterrupted_one(tmp_path, text, name):
    full = weights(train(config_for(name, text, 2), tmp_path / "full").model)
    train(config_for(name, text, 1), tmp_path / "cut")
    resumed = weights(resume(tmp_path / "cut", epochs=2).model)
    assert full.keys() == resumed.keys() and all(torch.equal(full[k], resumed[k]) for k in full)


@pytest.mark.parametrize("name", ["vae", "lm"])
def test_the_sequence_report_is_in_nats_per_sentence_and_perplexity(tmp_path, text, name):
    run = train(config_for(name, text, 1), tmp_path / "run")
    assert run.config.model.likelihood.type == "tokens" and run.config.model.network.type == "recurrent"
    report = evaluate_run(run, iw_samples=4, batch_size=5)
    assert "bits_per_dim" not in report and "nats_per_dim" not in report and "perplexity" in report["per_dim_unit"]
    assert report["nll"] == -report["log_likelihood"] and report["tokens"] > report["num_examples"]
    assert report["perplexity"] == pytest.approx(
        math.exp(report["nll"] * report["num_examples"] / report["tokens"]), rel=1e-12
    )
    assert report["nll_exact"] == (name == "lm")
    if name == "lm":
        assert report["kl"] == 0 and report["elbo_gap"] == pytest.approx(0, abs=1e-5)
