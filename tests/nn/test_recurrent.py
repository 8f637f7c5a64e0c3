"""The recurrent sequence models (network recurrent, likelihood tokens, model.type=lm): each a property, in float64.

p(x|z) is a normalized distribution over sequences; padding never changes a result; z (S, B, D) scores as the loop
over samples does; the decodings are what they claim (greedy follows the argmax, beam width 1 is greedy, a wider
beam never scores worse, sampling towards temperature 0 is greedy, a generator fixes the draws); word dropout is
drawn from the objective's generator, in training only.
"""

import itertools
import math

import pytest
import torch

from vaekit.config import load_config
from vaekit.errors import ConfigError
from vaekit.evaluate.likelihood import PixelMeasure, iw_log_likelihood, sequence_measures
from vaekit.evaluate.report import likelihood_report, summary_rows
from vaekit.models import build_model, model_entry
from vaekit.objectives import elbo_terms
from vaekit.spec import SPECIALS, DataSpec, Vocabulary

BOS, EOS, PAD = 1, 2, 0
TWO = DataSpec.sequence(Vocabulary((*SPECIALS, "a")), 6)  # two tokens (<unk>, a) and <eos>
FOUR = DataSpec.sequence(Vocabulary((*SPECIALS, "a", "b", "c")), 7)
SEQUENCE = ("model.network.type=recurrent", "model.likelihood.type=tokens", "model.network.embedding_dim=5")
CELLS = ["lstm", "gru"]


def model(kind: str = "vae", spec: DataSpec = FOUR, cell: str = "lstm", extra=(), seed: int = 0):
    overrides = [*model_entry(kind).tiny, *SEQUENCE, f"model.network.cell={cell}", "model.network.hidden=[7, 7]"]
    if kind == "lm":
        overrides.remove("model.likelihood.type=tokens")
    return build_model(load_config(overrides=[*overrides, *extra]).model, spec, seed=seed).double().eval()


def rows(*sequences: list[int], width: int | None = None) -> torch.Tensor:
    """Token lists -> x (B, width) int64: each row its tokens, <eos>, then <pad>."""
    width = width or max(len(s) for s in sequences) + 1
    x = torch.zeros(len(sequences), width, dtype=torch.int64)
    for i, s in enumerate(sequences):
        x[i, : len(s) + 1] = torch.tensor([*s, EOS])
    return x


def prefix_log_prob(m, z: torch.Tensor, prefix: list[int]) -> torch.Tensor:
    """log p(the sequence starts with `prefix` | z) from the decoder's step API, z (N, D) -> (N,)."""
    decoder = m.decoder
    state, tokens, total = decoder.start(z), torch.full((z.shape[0],), BOS), torch.zeros(z.shape[0], dtype=z.dtype)
    for token in prefix:
        log_p, state = decoder.step(tokens, z, state)
        total = total + log_p[:, token]
        tokens = torch.full_like(tokens, token)
    return total


@pytest.mark.parametrize("decoder", [(), ("model.network.decoder_hidden=[9, 9, 9]",)], ids=["shared", "own"])
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("kind", ["lm", "vae"])
def test_probabilities_of_every_sequence_sum_to_one(kind, cell, decoder):
    """Over every sequence of {<unk>, a} ended by <eos> with at most L tokens, plus the mass of the longer ones (the
    probabilities of their L + 1 token prefixes), p(x|z) sums to 1 (for the VAE at two values of z); also with a
    decoder of its own layers (model.network.decoder_hidden, MOSES's deeper, wider decoder)."""
    m, length = model(kind, TWO, cell, extra=decoder), 4
    assert m.decoder.rnn.num_layers == (3 if decoder else 2) and m.decoder.rnn.hidden_size == (9 if decoder else 7)
    z = torch.randn(2, m.latent_dim, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    words = [3, 4]
    complete = [list(s) for k in range(length + 1) for s in itertools.product(words, repeat=k)]
    with torch.no_grad():
        x = rows(*complete, width=length + 1)  # (M, L + 1)
        p_complete = m.likelihood(z.unsqueeze(1)).log_prob(x).exp().sum(-1)  # (2, M) -> (2,)
        longer = [prefix_log_prob(m, z, list(s)).exp() for s in itertools.product(words, repeat=length + 1)]
    total = p_complete + torch.stack(longer).sum(0)
    assert torch.allclose(total, torch.ones(2, dtype=torch.float64), atol=1e-12), total
    assert p_complete.min() > 0.01  # the check is not carried by the prefixes alone


@pytest.mark.parametrize("cell", CELLS)
def test_padding_never_changes_log_prob_or_the_posterior(cell):
    m = model("vae", cell=cell)
    x = rows([3, 4, 5], [6], [4, 4, 4, 4, 4, 6])
    wider = torch.cat([x, torch.zeros(3, 4, dtype=torch.int64)], 1)
    z = torch.randn(3, m.latent_dim, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(m.likelihood(z).log_prob(x), m.likelihood(z).log_prob(wider), rtol=0, atol=1e-12)
        assert torch.allclose(m.posterior(x).loc, m.posterior(wider).loc, rtol=0, atol=1e-12)
        # a row's score does not depend on the other rows of its batch (their lengths, their padding)
        widths = (x != PAD).sum(-1).tolist()  # each row alone, with no padding at all
        alone = torch.cat([m.likelihood(z[i : i + 1]).log_prob(x[i : i + 1, : widths[i]]) for i in range(3)])
        assert torch.allclose(alone, m.likelihood(z).log_prob(x), rtol=0, atol=1e-12)


def test_log_prob_of_samples_of_z_is_the_loop_over_samples():
    m, x = model("vae"), rows([3, 4, 5], [6], [4, 5, 6, 3])
    z = torch.randn(5, 3, m.latent_dim, generator=torch.Generator().manual_seed(2), dtype=torch.float64)  # (S, B, D)
    with torch.no_grad():
        batched = m.likelihood(z).log_prob(x)
        looped = torch.stack([m.likelihood(z[s]).log_prob(x) for s in range(5)])
    assert batched.shape == (5, 3) and torch.allclose(batched, looped, rtol=0, atol=1e-12)


def test_the_language_model_has_no_latent_and_its_estimates_are_exact():
    """KL = 0, and the ELBO and the importance-weighted estimate (any K) both equal log p(x); the estimate reads
    each sentence once whatever K (every weight is the same)."""
    m, x = model("lm"), rows([3, 4, 5], [6], [4, 5, 6, 3])
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        exact = m.likelihood(torch.zeros(3, 0, dtype=torch.float64)).log_prob(x)
        terms = elbo_terms(m, x, 1, g)
        decoded = []  # the rows of each decoder pass
        hook = m.decoder.rnn.register_forward_hook(lambda mod, args, out: decoded.append(int(args[0].batch_sizes[0])))
        iw = iw_log_likelihood(m, x, 7, g)
        hook.remove()
    assert decoded == [3]
    assert torch.equal(terms.kl, torch.zeros(3, dtype=torch.float64))
    assert torch.allclose(terms.elbo, exact, rtol=0, atol=1e-12) and torch.allclose(iw, exact, rtol=0, atol=1e-12)
    assert sum(p.numel() for n, p in m.named_parameters() if "encoder" in n) == 0


def test_greedy_decoding_takes_the_most_probable_next_token_at_each_step():
    """Each greedy token is the argmax of p(. | prefix, z), computed here by the teacher-forced (packed) path."""
    m = model("vae")
    z = 3 * torch.randn(4, m.latent_dim, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    with torch.no_grad():
        greedy = m.likelihood(z).greedy()  # (4, T)
        assert greedy.shape == (4, FOUR.event_shape[0])
        decoder, t_max = m.decoder, FOUR.event_shape[0]
        for i in range(4):
            row = greedy[i]
            length = int((row != PAD).sum())
            assert row[length - 1] == EOS and not (row[: length - 1] == EOS).any()
            for t in range(min(length, t_max - 1)):  # the last position is <eos> by construction
                candidates = row[:t].expand(FOUR.levels, t)
                targets = torch.cat([candidates, torch.arange(FOUR.levels)[:, None]], 1)  # (V, t + 1)
                inputs = torch.cat([torch.full((FOUR.levels, 1), BOS), targets[:, :-1]], 1)
                lengths = torch.full((FOUR.levels,), t + 1)
                scores = decoder.teacher_forced(inputs, z[i].expand(FOUR.levels, -1), targets, lengths)
                assert int(scores.argmax()) == int(row[t])


@pytest.mark.parametrize("cell", CELLS)
def test_beam_search_of_width_one_is_greedy_and_a_wider_beam_never_scores_worse(cell):
    m = model("vae", cell=cell)
    z = 3 * torch.randn(6, m.latent_dim, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    with torch.no_grad():
        px = m.likelihood(z)
        greedy, beam1, beam4 = px.greedy(), px.beam_search(1), px.beam_search(4)
        assert torch.equal(beam1, greedy)
        assert torch.all(px.log_prob(beam4) >= px.log_prob(greedy) - 1e-12)


def test_sampling_follows_its_generator_and_approaches_greedy_as_the_temperature_falls():
    m = model("vae")
    z = torch.randn(8, m.latent_dim, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    with torch.no_grad():
        px = m.likelihood(z)

        def draw(seed, temperature=1.0):
            return px.sample(generator=torch.Generator().manual_seed(seed), temperature=temperature)

        assert torch.equal(draw(0), draw(0)) and not torch.equal(draw(0), draw(1))
        assert draw(0).shape == (8, FOUR.event_shape[0])
        assert torch.equal(draw(0, 1e-6), px.greedy()) and torch.equal(draw(0, 0.0), px.greedy())
        many = px.sample((3,), generator=torch.Generator().manual_seed(0))
        assert many.shape == (3, 8, FOUR.event_shape[0])


def test_draws_follow_the_model_probabilities():
    """Ancestral draws at temperature 1 from the language model: the frequency of the sequence <eos> alone matches
    its probability within 4 standard errors."""
    m, n = model("lm", TWO), 4000
    with torch.no_grad():
        px = m.likelihood(torch.zeros(n, 0, dtype=torch.float64))
        drawn = px.sample(generator=torch.Generator().manual_seed(0))
        p = px.log_prob(rows([]))[0].exp().item()
    share = (drawn[:, 0] == EOS).double().mean().item()
    assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / n), (share, p)


def test_word_dropout_draws_from_the_given_generator_in_training_only():
    m, x = model("vae", extra=("model.likelihood.word_dropout=0.5",)), rows([3, 4, 5, 6, 3], [6, 6], [4, 5, 6, 3])
    z = torch.randn(3, m.latent_dim, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    with torch.no_grad():
        plain = m.likelihood(z).log_prob(x)
        m.train()
        a = m.likelihood(z).log_prob(x, generator=torch.Generator().manual_seed(0))
        b = m.likelihood(z).log_prob(x, generator=torch.Generator().manual_seed(0))
        c = m.likelihood(z).log_prob(x, generator=torch.Generator().manual_seed(1))
        # through the objective: the same generator, the same loss
        e1 = elbo_terms(m, x, 2, torch.Generator().manual_seed(0)).elbo
        e2 = elbo_terms(m, x, 2, torch.Generator().manual_seed(0)).elbo
        m.eval()
        assert torch.equal(m.likelihood(z).log_prob(x, generator=torch.Generator().manual_seed(0)), plain)
    assert torch.equal(a, b) and not torch.equal(a, c) and not torch.equal(a, plain) and torch.equal(e1, e2)


def test_the_vampprior_of_sequences_has_pseudo_inputs_in_embedding_space():
    m = model("vae", extra=("model.prior.type=vamp", "model.prior.components=4"))
    assert m.latent_prior.pseudo_inputs.shape == (4, FOUR.event_shape[0], 5)  # (K, T, E)
    with torch.no_grad():
        z = m.prior().sample((6,), generator=torch.Generator().manual_seed(0))
        assert m.prior().log_prob(z).shape == (6,) and torch.isfinite(m.prior().log_prob(z)).all()


def test_sequence_evaluation_is_in_nats_per_sentence_and_perplexity():
    """The report of a sequence model: no bits/dim; NLL per sentence and exp(total NLL / total tokens), <eos>
    counted; the language model's NLL is exact."""
    x = rows([3, 4, 5], [6], [4, 5, 6, 3])  # 4 + 2 + 5 = 11 tokens with <eos>
    for kind in ("vae", "lm"):
        m = model(kind)
        report = likelihood_report(m, x, iw_samples=3, batch_size=2, generator=torch.Generator().manual_seed(0))
        report = PixelMeasure("tokens", None).restate(report, x.shape[1])
        report.update(sequence_measures(report, x, exact=kind == "lm"))
        assert "bits_per_dim" not in report and "nats_per_dim" not in report
        assert report["tokens"] == 11 and report["nll"] == -report["log_likelihood"]
        assert report["perplexity"] == pytest.approx(math.exp(3 * report["nll"] / 11), rel=1e-12)
        assert ("perplexity", report["perplexity"]) in summary_rows(report, ("log_likelihood", "bits_per_dim"))
    assert report["nll_exact"] and report["active_units"] == 0 and report["kl"] == 0


def test_dropout_between_layers_acts_in_training_only():
    """model.network.dropout: the same parameters score the same in evaluation with or without it, and differently
    from a training pass (where torch drops the outputs of every recurrent layer but the last)."""
    x = rows([3, 4], [5], [4, 4, 6])
    inputs = torch.cat([torch.full_like(x[:, :1], BOS), x[:, :-1]], -1)
    lengths = (x != PAD).sum(-1)
    plain, dropped = model(), model(extra=["model.network.dropout=0.5"])
    assert dropped.decoder.rnn.dropout == 0.5 and dropped.encoder.rnn.dropout == 0.5
    z = torch.randn(3, plain.latent_dim, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        evaluated = [m.decoder.teacher_forced(inputs, z, x, lengths) for m in (plain, dropped)]
        torch.manual_seed(0)  # torch's RNN dropout draws from the global generator
        trained = dropped.train().decoder.teacher_forced(inputs, z, x, lengths)
    assert torch.equal(evaluated[0], evaluated[1])
    assert not torch.allclose(trained, evaluated[1])


def test_recurrent_configs_are_checked():
    with pytest.raises(ConfigError, match="must be equal"):
        load_config(overrides=["model.network.type=recurrent", "model.network.hidden=[8, 16]"])
    with pytest.raises(ConfigError, match="decoder_hidden"):
        load_config(overrides=["model.network.type=recurrent", "model.network.decoder_hidden=[8, 16]"])
    with pytest.raises(ConfigError, match="dropout"):
        load_config(overrides=["model.network.type=recurrent", "model.network.dropout=1.5"])
    with pytest.raises(ConfigError, match="model.network.type=recurrent"):
        build_model(load_config(overrides=["model.likelihood.type=tokens"]).model, FOUR)  # an mlp on sequences
    with pytest.raises(ConfigError, match="sequence"):
        build_model(load_config(overrides=list(SEQUENCE)).model, DataSpec.image((1, 4, 4), 2))
    with pytest.raises(ConfigError, match="word_dropout"):
        load_config(overrides=["model.likelihood.type=tokens", "model.likelihood.word_dropout=1"])


def test_never_predicted_tokens_take_no_gradient_and_the_rest_are_finite():
    """<pad> and <bos> are -inf through the output bias: a training step's gradients are finite, and zero on those
    two biases (their probability is exactly 0), for every parameter that a scored sequence reaches."""
    m = model().train()
    x = rows([3, 4], [5], [4, 4, 6])
    loss = -m.decoder.teacher_forced(
        torch.cat([torch.full_like(x[:, :1], BOS), x[:, :-1]], -1), torch.randn(3, m.latent_dim, dtype=torch.float64),
        x, (x != PAD).sum(-1),
    ).sum()  # fmt: skip
    loss.backward()
    grads = {name: p.grad for name, p in m.decoder.named_parameters() if p.grad is not None}
    assert all(torch.isfinite(g).all() for g in grads.values())
    bias = grads["output.bias"]
    assert bias[[PAD, BOS]].abs().max() == 0 and bias[[EOS, 3, 4, 5, 6]].abs().min() > 0
