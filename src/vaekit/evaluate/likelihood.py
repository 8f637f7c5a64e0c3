"""Likelihood-based evaluation in nats per example: the ELBO and the importance-weighted log p(x).

The importance-weighted estimate log (1/K) sum_k p(x, z_k) / q(z_k|x), z_k ~ q(z|x), is itself a lower bound
whose expectation rises to log p(x) as K grows (Burda et al. 2016); K = 5000 is the papers' protocol. It
is computed in chunks of samples with a running logsumexp, so memory does not grow with K.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch

from vaekit.discretized import bin_width, log_bin_width
from vaekit.objectives.elbo import elbo_terms
from vaekit.objectives.iwae import column_log_importance_weights, log_importance_weights
from vaekit.train.compile import compiled


@torch.no_grad()
def elbo_per_example(
    model, x: torch.Tensor, generator: torch.Generator | None = None, **cond
) -> dict[str, torch.Tensor]:
    """ELBO (beta = 1, one sample), E_q[log p(x|z)] and KL for each example of x; each (B,)."""
    terms = elbo_terms(model, x, 1, generator, **cond)
    return {"elbo": terms.elbo, "reconstruction": terms.log_px_z, "kl": terms.kl}


# From this many decoded values in all (N * K * C*H*W) the likelihood report compiles the log-weights: importing
# TorchInductor and compiling a chunk shape cost 5-15 s once per process, and the fused chunks save about a quarter
# of the rest on a 2-core CPU (docs/benchmarks.md); 2^32 is a k = 5000 evaluation of about 1100 MNIST digits.
FUSE_MIN_ELEMENTS = 2**32
_fused_log_weights = None


def fusing_pays(num_values: int) -> bool:
    """Whether compiling the log-weights pays back on an evaluation that decodes `num_values` values in all."""
    return num_values >= FUSE_MIN_ELEMENTS


def fused_log_weights():
    """log_importance_weights compiled with torch.compile (TorchInductor fuses the decoder's element-wise layers and
    the likelihood's sums into a few loops), or unchanged where torch.compile cannot run here; made once."""
    global _fused_log_weights
    if _fused_log_weights is None:
        _fused_log_weights = compiled(log_importance_weights, dynamic=False)
    return _fused_log_weights


class IwScores(NamedTuple):
    """Per-example results of K importance samples z_k ~ q(z|x), w_k = p(x, z_k) / q(z_k|x), each in nats.

    log_likelihood: log (1/K) sum_k w_k, the importance-weighted estimate of log p(x) (Burda et al. 2016); (B,).
    elbo: (1/K) sum_k log w_k, the ELBO estimated at the same draws; never above log_likelihood (Jensen); (B,).
    columns: for a table, sum_k w~_k log p(x_j|z_k) with the self-normalized weights w~_k = w_k / sum_i w_i: each
        column's log-probability under the importance-weighted posterior, (B, D); None unless asked. As K grows it
        tends to E_p(z|x)[log p(x_j|z)]. `latent` = log_likelihood - sum_j columns_j is the rest of the estimate,
        sum_k w~_k log(p(z_k) / q(z_k|x)) - sum_k w~_k log w~_k - log K, which tends to -KL(p(z|x) || p(z)); so
        log_likelihood = sum_j columns_j + latent exactly.
    """

    log_likelihood: torch.Tensor
    elbo: torch.Tensor
    columns: torch.Tensor | None

    @property
    def latent(self) -> torch.Tensor | None:
        """log_likelihood - sum_j columns_j (B,): the latent variable's share; None without columns."""
        return None if self.columns is None else self.log_likelihood - self.columns.sum(-1)


@torch.no_grad()
def iw_scores(
    model,
    x: torch.Tensor,
    num_samples: int,
    generator: torch.Generator | None = None,
    max_chunk_elements: int = 2**20,
    fused: bool = False,
    columns: bool = False,
    **cond,
) -> IwScores:
    """Importance-weighted log p(x), the ELBO at the same draws and (`columns`) each table column's share, for x
    (B, ...) with K = num_samples (IwScores).

    Samples are drawn in chunks of k so that k * B * (C*H*W) stays under `max_chunk_elements` (the default,
    4 MiB of float32, keeps the decoder's output in cache: 5x faster than 64 MiB chunks on a 2-core CPU);
    the chunks' logsumexps are combined exactly with logaddexp, and the columns' weighted sums are rescaled to each
    new running total. The weights use the model's whole prior (a VampPrior's mixture, a hierarchy's every layer),
    never a per-dimension shortcut. With `cond` (a conditional model's labels y) the estimates are of log p(x|y).

    fused: compute each chunk's log-weights with `fused_log_weights` where torch.compile can run here (not with
    `columns`). The draws are the same either way (they stay outside the compiled graph); the weights differ by
    float rounding only.
    """
    log_weights = fused_log_weights() if fused and not columns else log_importance_weights
    if getattr(model, "latent_dim", None) == 0:
        # z has no dimensions (a language model): every weight is log p(x), so one draw gives the K-sample estimate
        # exactly, at 1/K of the decoder's cost
        num_samples = 1
    qz_x = model.posterior(x, **cond)
    chunk = max(1, min(num_samples, max_chunk_elements // max(1, x[0].numel() * x.shape[0])))
    total = per_column = None
    sum_log_w = torch.zeros((), device=x.device)
    for start in range(0, num_samples, chunk):
        k = min(chunk, num_samples - start)
        z = qz_x.sample((k,), generator=generator)  # (k, B, D)
        if columns:
            log_w, log_px_j = column_log_importance_weights(model, x, qz_x, z, **cond)  # (k, B), (k, B, D)
        else:
            log_w = log_weights(model, x, qz_x, z, **cond)  # (k, B)
        lse = torch.logsumexp(log_w, 0)  # (B,)
        new_total = lse if total is None else torch.logaddexp(total, lse)
        if columns:
            w = torch.exp(log_w - new_total).unsqueeze(-1)  # (k, B, 1): weights over every draw so far
            part = torch.where(w > 0, w * log_px_j, 0.0).sum(0)  # (B, D); a weight of 0 hides a -inf column
            per_column = part if per_column is None else per_column * torch.exp(total - new_total).unsqueeze(-1) + part
        sum_log_w = sum_log_w + log_w.sum(0)
        total = new_total
    return IwScores(total - math.log(num_samples), sum_log_w / num_samples, per_column)


@torch.no_grad()
def iw_log_likelihood(
    model,
    x: torch.Tensor,
    num_samples: int,
    generator: torch.Generator | None = None,
    max_chunk_elements: int = 2**20,
    fused: bool = False,
    **cond,
) -> torch.Tensor:
    """Importance-weighted estimate of log p(x) for x (B, *event_shape) with K = num_samples; shape (B,).

    The `log_likelihood` of `iw_scores` (its chunks, its `fused`).
    """
    return iw_scores(model, x, num_samples, generator, max_chunk_elements, fused, **cond).log_likelihood


@torch.no_grad()
def column_reconstruction(model, x: torch.Tensor, generator: torch.Generator | None = None, **cond) -> torch.Tensor:
    """E_q[log p(x_j|z)] of each column j of rows x (B, D), one draw of z: (B, D) nats; the columns sum to the
    reconstruction term of the ELBO (vaekit.nn.columns.MixedColumns.column_log_prob)."""
    z = model.posterior(x, **cond).sample(generator=generator)  # (B, latent)
    return model.likelihood(z, **cond).column_log_prob(x)


def sequence_measures(report: dict, x: torch.Tensor, exact: bool = False) -> dict:
    """The units of a likelihood report on token sequences x (N, T_b) (He et al. 2019's protocol): `nll`, nats per
    sentence (-log_likelihood), `perplexity` = exp(total NLL / total tokens) with every sentence's <eos> counted,
    `tokens` (that total) and `nll_exact` (True when the estimate is log p(x) itself: a model without a latent)."""
    tokens = int((x != 0).sum())  # tokens and <eos>; <pad> is id 0
    nll = -report["log_likelihood"]
    return {
        "nll": nll,
        "perplexity": math.exp(nll * report["num_examples"] / tokens),
        "tokens": tokens,
        "nll_exact": exact,
    }


def bits_per_dim(log_likelihood: float, num_dims: int) -> float:
    """-log p(x) / (D ln 2): nats per example to bits per data dimension (for a probability of discrete values)."""
    return -log_likelihood / (num_dims * math.log(2.0))


@dataclass(frozen=True)
class PixelMeasure:
    """What a likelihood's log_prob measures on a data set, and so the unit its per-dimension number honestly has.

    support: the likelihood's (vaekit.nn.likelihoods): "binary", "levels", "real" (a density) or "columns" (a
        table's: each column's own).
    levels: the values a pixel of the evaluated data takes (ImageData.levels; 2 when binarized); None: continuous.

    - a probability of the data's values (discrete support, or Bernoulli on binary pixels): bits/dim as it is;
    - a density on pixels of L values, trained and evaluated on dequantized pixels x + w (u - 1/2), w = 1/(L-1):
      log P(v) >= E_u[log p(x + w (u - 1/2))] + D log w (Theis et al. 2016), so -(log p + D log w) / (D ln 2)
      is an upper bound on the discrete bits/dim, comparable with a discrete likelihood's;
    - a density on continuous data: nats per dimension (density); it is not a number of bits and can be negative;
    - a table's columns: nats per column (densities of the real columns, probabilities of the others);
    - token sequences: no per-dimension number (the length varies): nats per sentence and the perplexity
      (sequence_measures);
    - a Bernoulli on pixels that are not binary: a cross-entropy of intensities, not a likelihood; nats/dim.
    """

    support: str
    levels: int | None

    @property
    def dequantized(self) -> bool:
        return self.support == "real" and self.levels is not None

    @property
    def discrete(self) -> bool:
        return self.support == "levels" or (self.support == "binary" and self.levels == 2)

    def example_bits_per_dim(self, log_likelihood: torch.Tensor, num_dims: int) -> torch.Tensor | None:
        """Each example's bits/dim (B,) from its log p(x) (B,) in nats, where it is one: as it is for a discrete
        measure, with the dequantization's D log w for a dequantized one (the upper bound of `restate`); None for
        the others (a density's or a table's per-dimension number is not in bits)."""
        if self.discrete:
            return -log_likelihood / (num_dims * math.log(2.0))
        if self.dequantized:
            return -(log_likelihood + num_dims * log_bin_width(self.levels)) / (num_dims * math.log(2.0))
        return None

    def restate(self, report: dict, num_dims: int) -> dict:
        """The report with its `bits_per_dim` (-log p / (D ln 2) of its bound, as for a discrete likelihood)
        replaced by the number this measure makes honest, and `per_dim_unit` saying what it is.

        Discrete: bits_per_dim unchanged. Dequantized: bits_per_dim + log2(L - 1), with `dequantization` (levels,
        bin width, the correction in nats per example) and, for a likelihood report, `log_likelihood_discrete`
        (log_likelihood + D log w, nats). Otherwise no bits_per_dim: `nats_per_dim` = bits_per_dim * ln 2.
        """
        report = dict(report)
        naive = report.pop("bits_per_dim")
        if self.discrete:
            values = "binary pixels" if self.support == "binary" else f"the {self.levels} pixel values"
            report.update(bits_per_dim=naive, per_dim_unit=f"bits per dimension (a probability of {values})")
        elif self.dequantized:
            correction = num_dims * log_bin_width(self.levels)  # D log w, nats per example
            report.update(
                bits_per_dim=naive - log_bin_width(self.levels) / math.log(2.0),
                per_dim_unit=(
                    f"bits per dimension, an upper bound: the density of dequantized pixels (uniform noise in each of "
                    f"the {self.levels} values' bins) + log2({self.levels - 1}) per dimension (Theis et al. 2016)"
                ),
                dequantization={"levels": self.levels, "bin_width": bin_width(self.levels), "correction": correction},
            )
            if "log_likelihood" in report:
                report["log_likelihood_discrete"] = report["log_likelihood"] + correction
        elif self.support == "real":
            report.update(nats_per_dim=naive * math.log(2.0), per_dim_unit="nats per dimension (density)")
        elif self.support == "tokens":
            report.update(
                per_dim_unit=(
                    "none: a sentence has no fixed number of dimensions (its length is part of what is modelled), so "
                    "the NLL is in nats per sentence and the per-token unit is the perplexity exp(total NLL / total "
                    "tokens), <eos> counted (He et al. 2019)"
                )
            )
        elif self.support == "columns":
            report.update(
                nats_per_dim=naive * math.log(2.0),
                per_dim_unit=(
                    "nats per column, in the table's own units: densities of real columns (the standardization's "
                    "log-Jacobian included), probabilities of binary, categorical and count columns"
                ),
            )
        else:
            report.update(
                nats_per_dim=naive * math.log(2.0),
                per_dim_unit="nats per dimension (Bernoulli cross-entropy of non-binary intensities: not a likelihood)",
            )
        return report
