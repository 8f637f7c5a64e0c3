"""Recurrent bodies for sequences of token ids (network type `recurrent`): a GRU/LSTM encoder to features, and the
autoregressive GRU/LSTM decoder of a sentence VAE.

The decoder follows He et al. 2019 ("Lagging Inference Networks and Posterior Collapse in Variational
Autoencoders") and Bowman et al. 2016 ("Generating Sentences from a Continuous Space"): z sets the initial state
(LSTM: c_0 = W z, h_0 = tanh(c_0); GRU: h_0 = tanh(W z)) and is concatenated to the input embedding at every step.
With a latent of size 0 (the language model) the initial state is zero and the decoder is a plain LSTM/GRU LM.

x is an int64 tensor (B, T_b): each row its tokens, <eos>, then <pad> (id 0) (vaekit.spec). Sequences are packed
(torch.nn.utils.rnn), so <pad> never enters a recurrent step: appending <pad> never changes a result, and padded
positions cost nothing.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

from vaekit.config import RecurrentNetworkConfig
from vaekit.registry import NETWORKS
from vaekit.spec import DataSpec, Vocabulary

PAD, BOS, EOS, UNK = (Vocabulary.pad_id, Vocabulary.bos_id, Vocabulary.eos_id, Vocabulary.unk_id)
_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # GRU: h (L, N, H); LSTM: (h, c)


class TokenEmbedding(nn.Module):
    """The input layer of sequences: token ids (B, T_b) -> embeddings (B, T_b, E), <pad> the zero vector.

    The encoder body reads embeddings, so that a VampPrior's pseudo-inputs live in this space (out_shape (T, E)):
    a position is padding where its vector is exactly zero, which a learned embedding of a token or a pseudo-input
    never is in practice (pseudo-inputs are read at their full length T).
    """

    def __init__(self, spec: DataSpec, embedding_dim: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(spec.levels, embedding_dim, padding_idx=PAD)
        self.out_shape = (spec.event_shape[0], embedding_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(x)  # (B, T_b) -> (B, T_b, E)


def _recurrent(cell: str, input_size: int, hidden: list[int], dropout: float = 0.0) -> nn.Module:
    """Stacked layers of equal width; dropout on each layer's outputs but the last's, in training (torch's RNN)."""
    dropout = dropout if len(hidden) > 1 else 0.0  # torch warns on dropout with a single layer, where it does nothing
    return _CELLS[cell](input_size, hidden[0], num_layers=len(hidden), batch_first=True, dropout=dropout)


def packed_order(lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows sorted by decreasing length (stable) and the inverse permutation, for packing with enforce_sorted."""
    order = torch.sort(lengths, descending=True, stable=True).indices
    return order, torch.argsort(order)


class RecurrentEncoder(nn.Module):
    """Embedded sequences u (B, T_b, E) -> features (B, H): the last layer's state after each row's last token."""

    def __init__(self, input_size: int, hidden: list[int], cell: str, dropout: float = 0.0) -> None:
        super().__init__()
        self.rnn = _recurrent(cell, input_size, hidden, dropout)
        self.out_features = hidden[-1]

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        lengths = (u != 0).any(-1).sum(-1)  # (B,): tokens and <eos>; padding is the zero vector (TokenEmbedding)
        packed = pack_padded_sequence(u, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, state = self.rnn(packed)
        h = state[0] if isinstance(state, tuple) else state  # (L, B, H), in the rows' own order
        return h[-1]


class RecurrentDecoder(nn.Module):
    """The autoregressive decoder over a vocabulary of V tokens, conditioned on z (N, D) (D = 0: none).

    `forward(z)` only binds z (vaekit.nn.tokens makes the distribution over sequences); `teacher_forced` scores
    given sequences; `start` and `step` decode one token at a time. <pad> and <bos> are never predicted: their
    logits are -inf, so the model is a distribution over sequences of the other tokens ended by <eos>.
    """

    def __init__(
        self, vocab_size: int, embedding_dim: int, hidden: list[int], cell: str, latent_dim: int, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.cell, self.latent_dim = cell, latent_dim
        self.layers, self.hidden_size = len(hidden), hidden[0]
        self.embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        self.rnn = _recurrent(cell, embedding_dim + latent_dim, hidden, dropout)
        # z -> the initial state; without a latent the state starts at zero
        self.initial = nn.Linear(latent_dim, self.layers * self.hidden_size, bias=False) if latent_dim else None
        self.output = nn.Linear(self.hidden_size, vocab_size)
        never = torch.zeros(vocab_size, dtype=torch.bool)
        never[[PAD, BOS]] = True
        self.register_buffer("never", never, persistent=False)  # tokens whose logit is -inf (a bool: finite buffers)

    @property
    def vocab_size(self) -> int:
        return self.output.out_features

    def forward(self, z: torch.Tensor) -> tuple[RecurrentDecoder, torch.Tensor]:
        return self, z

    def start(self, z: torch.Tensor) -> State:
        """The initial state for z (N, D): (L, N, H) each."""
        if self.initial is None:
            c = self.embed.weight.new_zeros(self.layers, z.shape[0], self.hidden_size)
        else:
            c = self.initial(z).view(z.shape[0], self.layers, self.hidden_size).transpose(0, 1).contiguous()
        return (torch.tanh(c), c) if self.cell == "lstm" else torch.tanh(c)

    def log_softmax(self, h: torch.Tensor) -> torch.Tensor:
        """Outputs h (..., H) -> log-probabilities of the next token (..., V), <pad> and <bos> at -inf.

        The -inf goes into the bias (V,) rather than the logits (..., V): one pass over the logits fewer, forward and
        backward (about 5 % of a training step at V = 10,000)."""
        bias = self.output.bias.masked_fill(self.never, float("-inf"))  # (V,)
        return torch.log_softmax(nn.functional.linear(h, self.output.weight, bias), -1)

    def step(self, tokens: torch.Tensor, z: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """One step: the previous tokens (N,) and z (N, D) -> log p(next token) (N, V) and the new state."""
        u = torch.cat([self.embed(tokens), z.to(self.embed.weight.dtype)], -1).unsqueeze(1)  # (N, 1, E + D)
        out, state = self.rnn(u, state)
        return self.log_softmax(out[:, 0]), state

    def teacher_forced(
        self, inputs: torch.Tensor, z: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        """sum_t log p(targets_t | inputs_<=t, z) over each row's `lengths` positions: (N,) nats.

        inputs, targets (N, T_b) int64 (inputs: <bos> then the targets shifted right, perhaps word-dropped);
        z (N, D); lengths (N,) >= 1. Rows are packed, so positions past a row's length are never computed.
        """
        n, t = inputs.shape
        order, inverse = packed_order(lengths)
        inputs, targets, z, lengths = inputs[order], targets[order], z[order], lengths[order]
        emb = self.embed(inputs)  # (N, T_b, E)
        u = torch.cat([emb, z.to(emb.dtype).unsqueeze(1).expand(n, t, z.shape[-1])], -1)  # (N, T_b, E + D)
        cpu_lengths = lengths.cpu()
        packed = pack_padded_sequence(u, cpu_lengths, batch_first=True)
        out, _ = self.rnn(packed, self.start(z))  # out.data (P, H), P = sum of lengths
        wanted = pack_padded_sequence(targets, cpu_lengths, batch_first=True).data  # (P,), the same order
        token_lp = self.log_softmax(out.data).gather(-1, wanted.unsqueeze(-1)).squeeze(-1)  # (P,)
        per_row = _sum_packed(PackedSequence(token_lp, out.batch_sizes), n)  # (N,), sorted order
        return per_row[inverse]


def _sum_packed(packed: PackedSequence, n: int) -> torch.Tensor:
    """Per-row sums of a packed sequence of scalars (rows sorted by decreasing length): (n,)."""
    alive = torch.arange(n)[None, :] < packed.batch_sizes[:, None]  # (T, n): row r has a step t; packed order
    rows = alive.nonzero()[:, 1].to(packed.data.device)  # (P,), the row of each packed value
    return torch.zeros(n, dtype=packed.data.dtype, device=packed.data.device).index_add(0, rows, packed.data)


@NETWORKS.register("recurrent")
def build_recurrent(
    cfg: RecurrentNetworkConfig, shape: tuple[int, ...], latent_dim: int
) -> tuple[nn.Module, nn.Module]:
    """shape (T, F): the encoder reads F-wide embeddings (TokenEmbedding's out_shape), the decoder predicts F tokens
    (the head's parameter_shape (T, V)); vaekit.models.build calls this once for each side that needs it. The decoder
    has its own layers where `decoder_hidden` is given (MOSES: a [256] encoder, a [512, 512, 512] decoder)."""
    encoder = RecurrentEncoder(shape[-1], cfg.hidden, cfg.cell, cfg.dropout)
    decoder_hidden = cfg.hidden if cfg.decoder_hidden is None else cfg.decoder_hidden
    decoder = RecurrentDecoder(shape[-1], cfg.embedding_dim, decoder_hidden, cfg.cell, latent_dim, cfg.dropout)
    return encoder, decoder
