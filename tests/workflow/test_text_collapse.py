"""Posterior collapse where it bites (Bowman et al. 2016): on sentences of two templates an LSTM decoder needs no z,
and a plain sentence VAE's posterior collapses; with a remedy the posterior tells the templates apart."""

import math

import pytest
import torch

from vaekit import train
from vaekit.config import load_config
from vaekit.workflow.data import load_run_data

WORDS = ["mat", "hat", "rug", "park", "lake", "box"]
TINY_TEXT_VAE = [
    "model.network.type=recurrent",
    "model.likelihood.type=tokens",
    "model.network.hidden=[16]",
    "model.network.embedding_dim=8",
    "model.latent_dim=2",
    "train.batch_size=16",
    "train.lr=0.01",
    "train.epochs=6",
    "train.progress=false",
    "train.num_sample_images=4",
]


@pytest.fixture(scope="module")
def two_templates(tmp_path_factory):
    """120 sentences: "the cat sat on the W" and "a dog ran in the W", alternating."""
    path = tmp_path_factory.mktemp("text") / "two.txt"
    lines = [f"the cat sat on the {WORDS[i % 6]}" if i % 2 else f"a dog ran in the {WORDS[i % 6]}" for i in range(120)]
    path.write_text("\n".join(lines) + "\n")
    return path


def trained(path, out, *remedy: str):
    """A run, and how often a posterior draw z ~ q(z|x) lies nearer its own template's mean than the other's."""
    run = train(load_config(overrides=[f"data.source={path}", *TINY_TEXT_VAE, *remedy]), out)
    data = load_run_data(run.config, "cpu", run.spec)
    x = torch.cat([data.train_x, data.test_x])  # (N, T) token ids
    template = x[:, 0] == x[0, 0]  # the first word says which
    qz_x = run.model.posterior(x)
    means = [qz_x.loc[template].mean(0), qz_x.loc[~template].mean(0)]
    z = qz_x.sample((20,), generator=torch.Generator().manual_seed(0))  # (S, N, D)
    nearer_first = (z - means[0]).pow(2).sum(-1) < (z - means[1]).pow(2).sum(-1)  # (S, N)
    return run.metrics(), float((nearer_first == template).double().mean())


def test_a_plain_sentence_vae_collapses_and_a_remedy_keeps_the_templates_apart(tmp_path, two_templates):
    (*_, plain), plain_accuracy = trained(two_templates, tmp_path / "plain")
    assert plain["test_kl"] < 0.05  # collapsed: the decoder models the templates alone
    assert plain_accuracy < 0.6  # a draw of z is (next to) a coin flip about the template
    # BN-VAE (Zhu et al. 2020), gamma = 1: the KL cannot fall under D gamma^2 / 2 = 1 nat, and the information that
    # pays in reconstruction is the template
    (*_, bn), bn_accuracy = trained(two_templates, tmp_path / "bn", "model.posterior_bn_gamma=1.0")
    assert bn["test_kl"] > 0.9 and bn["test_active_units"] == 2
    assert bn_accuracy > 0.9
    assert bn["test_mi"] > plain["test_mi"] + 0.3 and bn["test_mi"] <= math.log(12) + 1e-6  # 12 test sentences


def test_free_bits_hold_a_sentence_vaes_kl_at_their_floor(tmp_path, two_templates):
    (*_, free), _ = trained(two_templates, tmp_path / "fb", "objective.free_bits=0.5")
    assert free["test_kl"] > 0.8  # 2 dimensions x 0.5 nats kept (the plain run's is under 0.05)


def test_aggressive_updates_and_pretraining_run_on_a_sentence_vae(tmp_path, two_templates):
    aggressive, _ = trained(
        two_templates, tmp_path / "aggressive", "train.aggressive=true", "train.aggressive_max_steps=10"
    )
    assert aggressive[0]["train_inner_steps"] > 0  # aggressive in the first epoch (the test MI decides when it ends)
    (*_, pretrained), _ = trained(
        two_templates, tmp_path / "pre", "objective.pretrain_epochs=2", "objective.free_bits=0.5"
    )
    assert pretrained["test_kl"] > 0.8
