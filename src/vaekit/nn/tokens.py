"""p(x|z) over token sequences (likelihood type `tokens`): the recurrent decoder's distribution, and its decoding.

`log_prob(x)` is the teacher-forced log p(x|z) = sum_t log p(x_t | x_<t, z) over a row's tokens and its <eos>, in
nats, (B,) for z (B, D) and (S, B) for z (S, B, D) (the S * B rows are decoded as one batch); <pad> is never
scored. It is a normalized distribution over every finite sequence of the vocabulary's tokens (<pad> and <bos>
excluded) ended by <eos>.

A distribution over sequences has no mean. The uses that take one (models.base: `sample`, `decode`, `reconstruct`,
interpolation) get the greedy decoding (`.mean` and `.mode`, the usual point decode of a sequence model), and
`.sample(generator=)` draws sequences ancestrally (`draw`: a run's samples). `greedy`, `sample(temperature=)` and
`beam_search(width)` decode explicitly. Every decoding writes rows as x is written (tokens, <eos>, then <pad>) of
the spec's maximum length T; a row still going at position T is ended there by <eos> (a decoding reads the model
truncated to T positions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.distributions import Distribution

from vaekit.distributions import NoisyInTraining
from vaekit.nn.recurrent import BOS, EOS, PAD, UNK, RecurrentDecoder
from vaekit.spec import DataSpec

_LOGITS_PER_PIECE = 2**24  # without gradients, log_prob decodes rows in pieces of at most this many logits


class TokenSequences(NoisyInTraining, Distribution):
    """p(x|z) over token sequences of any length; batch shape z.shape[:-1], event shape (T,) (a decoding's width).

    decoder: the model's RecurrentDecoder; z (..., D); max_length: T, the spec's; word_dropout: the probability
    that a decoder input token becomes <unk> in log_prob (training only: Bowman et al. 2016).
    """

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, decoder: RecurrentDecoder, z: torch.Tensor, max_length: int, word_dropout: float = 0.0) -> None:
        self.decoder, self.z, self.max_length, self.word_dropout = decoder, z, max_length, word_dropout
        super().__init__(z.shape[:-1], torch.Size([max_length]), validate_args=False)

    def log_prob(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Teacher-forced log p(x|z) of rows x (..., T_b) int64, broadcast with the batch shape: (...,) nats.

        With word dropout (training), each input token is replaced by <unk> with its probability, drawn from
        `generator` (the objective's, so a resumed run draws the same).
        """
        batch = torch.broadcast_shapes(self.batch_shape, x.shape[:-1])
        inputs = torch.cat([torch.full_like(x[..., :1], BOS), x[..., :-1]], -1)  # (..., T_b): <bos>, then x shifted
        if self.word_dropout > 0:
            drop = torch.rand(inputs.shape, generator=generator, device=x.device) < self.word_dropout
            inputs = torch.where(drop & (inputs != BOS) & (inputs != PAD), torch.full_like(inputs, UNK), inputs)
        t, n = x.shape[-1], batch.numel()
        inputs, targets = inputs.expand(*batch, t).reshape(n, t), x.expand(*batch, t).reshape(n, t)  # (N, T_b)
        z = self.z.expand(*batch, self.z.shape[-1]).reshape(n, self.z.shape[-1])  # (N, D)
        lengths = (targets != PAD).sum(-1)  # (N,): tokens and <eos>
        piece = n if torch.is_grad_enabled() else max(1, _LOGITS_PER_PIECE // (t * self.decoder.vocab_size))
        parts = [
            self.decoder.teacher_forced(inputs[i : i + piece], z[i : i + piece], targets[i : i + piece],
                                        lengths[i : i + piece])
            for i in range(0, n, piece)
        ]  # fmt: skip
        return torch.cat(parts).view(batch)

    # Decoding. z is flattened to (N, D); results come back as (..., T).

    def _decode(self, pick: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        lead = z.shape[:-1]
        rows = decode(self.decoder, z.reshape(lead.numel(), z.shape[-1]), self.max_length, pick)
        return rows.view(*lead, self.max_length)

    @torch.no_grad()
    def greedy(self) -> torch.Tensor:
        """The most probable token at each step: (..., T) int64."""
        return self._decode(lambda lp: lp.argmax(-1), self.z)

    @property
    def mean(self) -> torch.Tensor:
        """The greedy decoding (a distribution over sequences has no mean; module docstring)."""
        return self.greedy()

    @property
    def mode(self) -> torch.Tensor:
        """The greedy decoding, the usual stand-in for the intractable most probable sequence."""
        return self.greedy()

    @torch.no_grad()
    def sample(
        self, sample_shape: torch.Size | tuple = (), generator: torch.Generator | None = None, temperature: float = 1.0
    ) -> torch.Tensor:
        """Ancestral draws, each next token from softmax(log p / temperature): (sample_shape..., ..., T) int64.

        temperature 1 draws from the model; towards 0 the draws approach the greedy decoding (0: greedy).
        """
        if not temperature >= 0:
            raise ValueError(f"the sampling temperature must be >= 0, got {temperature}")
        z = self.z.expand(*sample_shape, *self.z.shape)
        if temperature == 0:
            return self._decode(lambda lp: lp.argmax(-1), z)

        def pick(lp: torch.Tensor) -> torch.Tensor:
            probs = torch.softmax(lp / temperature, -1)  # (N, V)
            return torch.multinomial(probs, 1, generator=generator).squeeze(-1)

        return self._decode(pick, z)

    @torch.no_grad()
    def beam_search(self, width: int) -> torch.Tensor:
        """The best of `width` beams by log p(x|z) (no length normalization): (..., T) int64; width 1 is greedy."""
        lead = self.z.shape[:-1]
        rows = beam_search(self.decoder, self.z.reshape(lead.numel(), self.z.shape[-1]), self.max_length, width)
        return rows.view(*lead, self.max_length)


def decode(
    decoder: RecurrentDecoder, z: torch.Tensor, max_length: int, pick: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    """Token by token from <bos>: tokens[t] = pick(log p(. | tokens_<t, z)) (N, V) -> (N,), until <eos> or the
    last position, where <eos> is forced. z (N, D) -> rows (N, T) int64 (tokens, <eos>, <pad>)."""
    n = z.shape[0]
    rows = torch.full((n, max_length), PAD, dtype=torch.int64, device=z.device)
    done = torch.zeros(n, dtype=torch.bool, device=z.device)
    tokens = torch.full((n,), BOS, dtype=torch.int64, device=z.device)
    state = decoder.start(z)
    for t in range(max_length):
        log_p, state = decoder.step(tokens, z, state)  # (N, V)
        tokens = torch.full_like(tokens, EOS) if t == max_length - 1 else pick(log_p)
        tokens = torch.where(done, torch.full_like(tokens, PAD), tokens)
        rows[:, t] = tokens
        done = done | (tokens == EOS)
        if bool(done.all()):
            break
    return rows


def beam_search(decoder: RecurrentDecoder, z: torch.Tensor, max_length: int, width: int) -> torch.Tensor:
    """Beam search over log p(x|z) for each row of z (N, D): (N, T) int64, the best finished beam of `width`.

    A finished beam carries its score unchanged (one continuation, <pad>, at log-probability 0); the last position
    admits only <eos>, so every beam has finished by T.
    """
    if width < 1:
        raise ValueError(f"the beam width must be at least 1, got {width}")
    n, w, v = z.shape[0], width, decoder.vocab_size
    zw = z.repeat_interleave(w, 0)  # (N W, D)
    state = decoder.start(zw)
    scores = torch.full((n, w), float("-inf"), dtype=torch.float64, device=z.device)
    scores[:, 0] = 0.0  # the first step expands one beam
    rows = torch.full((n, w, max_length), PAD, dtype=torch.int64, device=z.device)
    done = torch.zeros(n, w, dtype=torch.bool, device=z.device)
    tokens = torch.full((n * w,), BOS, dtype=torch.int64, device=z.device)
    carry = torch.full((v,), float("-inf"), dtype=torch.float64, device=z.device)
    carry[PAD] = 0.0  # a finished beam's only continuation
    only_eos = carry.roll(EOS - PAD)  # 0 at <eos>, -inf elsewhere
    for t in range(max_length):
        log_p, state = decoder.step(tokens, zw, state)
        log_p = log_p.double().view(n, w, v)
        if t == max_length - 1:
            log_p = log_p + only_eos
        log_p = torch.where(done.unsqueeze(-1), carry, log_p)
        best, index = (scores.unsqueeze(-1) + log_p).view(n, w * v).topk(w, -1)  # (N, W)
        beam, token = index // v, index % v
        flat = (beam + torch.arange(n, device=z.device).unsqueeze(1) * w).view(-1)  # (N W,) source beams
        state = tuple(s[:, flat] for s in state) if isinstance(state, tuple) else state[:, flat]
        rows = rows.view(n * w, max_length)[flat].view(n, w, max_length)
        rows[:, :, t] = token
        done = done.view(-1)[flat].view(n, w) | (token == EOS)
        scores, tokens = best, token.view(-1)
        if bool(done.all()):
            break
    winner = scores.argmax(-1)  # (N,)
    return rows[torch.arange(n, device=z.device), winner]


DECODINGS = ("greedy", "beam", "sample")  # Decoding.method


@dataclass(frozen=True)
class Decoding:
    """How sentences are read off p(x|z): `greedy`, `beam` search keeping `width` beams, or ancestral `sample`
    draws at `temperature` (1: the model's own distribution; 0: greedy). The uses of a text run take one (the CLI's
    --decode, --beam-width and --temperature; the explorer's choice); the default, greedy, is `.mean`."""

    method: str = "greedy"
    width: int = 1
    temperature: float = 1.0

    def __post_init__(self) -> None:
        if self.method not in DECODINGS:
            raise ValueError(f"the decoding must be one of {', '.join(DECODINGS)}, got {self.method!r}")
        if self.width < 1:
            raise ValueError(f"the beam width must be at least 1, got {self.width}")
        if not self.temperature >= 0:
            raise ValueError(f"the sampling temperature must be >= 0, got {self.temperature}")

    def rows(self, px_z: TokenSequences, generator: torch.Generator | None = None) -> torch.Tensor:
        """The decoded rows (..., T) int64 of p(x|z) (batch shape (...)); `generator` drives `sample`'s draws."""
        if self.method == "beam":
            return px_z.beam_search(self.width)
        if self.method == "sample":
            return px_z.sample(generator=generator, temperature=self.temperature)
        return px_z.greedy()

    def describe(self) -> str:
        """The decoding in words, for what a command prints."""
        if self.method == "beam":
            return f"beam search, {self.width} beams"
        if self.method == "sample":
            greedy = " (greedy)" if self.temperature == 0 else ""
            return f"ancestral sampling at temperature {self.temperature:g}{greedy}"
        return "greedy decoding"


class TokensLikelihood(nn.Module):
    """The head of model.likelihood.type=tokens: (the decoder, z) -> TokenSequences.

    parameter_shape (T, V): the decoder it needs predicts V tokens at up to T positions.
    """

    def __init__(self, spec: DataSpec, word_dropout: float = 0.0) -> None:
        super().__init__()
        self.max_length = spec.event_shape[0]
        self.parameter_shape = (self.max_length, spec.levels)
        self.word_dropout = word_dropout

    def forward(self, params: tuple[RecurrentDecoder, torch.Tensor]) -> TokenSequences:
        decoder, z = params
        return TokenSequences(decoder, z, self.max_length, self.word_dropout if self.training else 0.0)


def build_tokens(cfg, spec: DataSpec) -> TokensLikelihood:
    """The head of model.likelihood.type=tokens (its keys are checked by its schema, vaekit.config)."""
    return TokensLikelihood(spec, cfg.word_dropout)
