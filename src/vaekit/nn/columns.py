"""Tables: the encoder's view of a row (one-hot categories) and p(x|z) over mixed columns.

Each column has the distribution of its type (vaekit.spec.Column):

    real         Normal(mean, sigma) on the standardized value; sigma fixed, learned (shared or per column) or
                 given by the decoder (a function of z). Its log-density is reported in the column's own units:
                 log p(v) = log p((v - m) / s) - log s (the standardization's log-Jacobian).
    binary       Bernoulli(logit)
    categorical  Categorical(K logits)
    count        Poisson(rate), or a negative binomial (mean, dispersion) with model.likelihood.count

`MixedColumns.log_prob(x)` sums the columns to (...,) nats with every normalizing constant, so a row's log p(x) is
comparable with any other density model of the raw table (densities for real columns, probabilities for the rest).

A missing cell is NaN in x (data.missing=model). Its column contributes 0, so `log_prob(x)` is log p(x_obs | z), the
likelihood of the observed cells that the MIWAE bound is built on (Mattei & Frellsen 2019, "MIWAE: Deep Generative
Modelling and Imputation of Incomplete Data Sets"); the encoder reads the row zero-filled, with its mask of observed
cells appended when the run models missing cells (TableInput).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Distribution

from vaekit.spec import DataSpec

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _index(spec: DataSpec, kind: str) -> list[int]:
    return [j for j, c in enumerate(spec.columns) if c.type == kind]


class TableInput(nn.Module):
    """A row x (..., D) of the model's numbers -> the encoder's input (..., D'): categorical columns one-hot, counts
    as log(1 + v) (their scale is unbounded), real and binary columns as they are.

    A missing cell (NaN) is read as 0 (an all-zero one-hot for a categorical column): MIWAE's zero imputation. When
    the spec says the run models missing cells (data.missing=model) the mask of observed cells (..., D) is appended,
    so that the encoder can tell a missing cell from an observed 0 (D' grows by D); otherwise D' is unchanged.
    """

    def __init__(self, spec: DataSpec) -> None:
        super().__init__()
        self.kinds = [(c.type, len(c.categories)) for c in spec.columns]
        self.with_mask = spec.preprocessing.get("missing") == "model"
        self.out_shape = (sum(c.width for c in spec.columns) + len(spec.columns) * self.with_mask,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        observed = ~torch.isnan(x)  # (..., D)
        x = x.masked_fill(~observed, 0.0)
        parts = []
        for j, (kind, k) in enumerate(self.kinds):
            v = x[..., j]
            if kind == "categorical":
                one_hot = F.one_hot(v.long().clamp(0, k - 1), k).to(x.dtype)  # (..., K)
                parts.append(one_hot * observed[..., j, None].to(x.dtype))
            elif kind == "count":
                parts.append(torch.log1p(v.clamp(min=0)).unsqueeze(-1))
            else:
                parts.append(v.unsqueeze(-1))
        if self.with_mask:
            parts.append(observed.to(x.dtype))
        return torch.cat(parts, -1)  # (..., D')


class EncodedInput(nn.Module):
    """An input layer followed by an encoder body; keeps the body's `out_features`."""

    def __init__(self, inputs: nn.Module, body: nn.Module) -> None:
        super().__init__()
        self.inputs, self.body = inputs, body
        self.out_features = body.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.inputs(x))


class MixedColumns(Distribution):
    """p(x|z) of a row: independent columns of mixed types; batch shape (...), event shape (D,).

    Parameters are split by type in the column order of the spec; `order` puts the per-type log-probabilities back
    into column order.
    """

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, head: ColumnsLikelihood, params: torch.Tensor) -> None:
        self.head = head
        batch = params.shape[:-1]
        sizes = head.sizes
        real_mean, real_log_sigma, bin_logits, cat_logits, count_a, count_b = params.split(sizes, -1)
        self.real_mean = real_mean  # (..., R)
        if not head.sigma_from_decoder:
            real_log_sigma = head.log_sigma.to(params.dtype).expand(*batch, len(head.real))
        self.real_log_sigma = real_log_sigma  # (..., R)
        self.bin_logits = bin_logits  # (..., B)
        self.cat_logits = cat_logits.split(head.cat_sizes, -1) if head.cat_sizes else ()  # each (..., K)
        self.count_log_mean = count_a + head.count_offset.to(params.dtype)  # (..., C)
        self.count_log_dispersion = count_b  # (..., C), negative binomial only
        super().__init__(batch, torch.Size([len(head.order)]), validate_args=False)

    def column_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x_j | z) per column, in the column's own units: (..., D); 0 where x_j is missing (NaN).

        The columns are scored on a zero-filled copy of x, so that no NaN reaches a gradient.
        """
        h = self.head
        missing = torch.isnan(x)  # (..., D)
        x = x.masked_fill(missing, 0.0)
        batch = torch.broadcast_shapes(self.batch_shape, x.shape[:-1])
        parts = []
        if h.real:
            v = x[..., h.real]
            sigma_log = self.real_log_sigma
            z = (v - self.real_mean) * torch.exp(-sigma_log)
            parts.append(-0.5 * z.pow(2) - sigma_log - HALF_LOG_2PI - h.log_std.to(x.dtype))
        if h.binary:
            v, logits = x[..., h.binary], self.bin_logits
            parts.append(v * logits - F.softplus(logits))
        for j, logits in zip(h.categorical, self.cat_logits, strict=True):
            index = x[..., j].long().unsqueeze(-1).expand(*batch, 1)  # (..., 1)
            parts.append(torch.log_softmax(logits, -1).expand(*batch, -1).gather(-1, index))
        if h.count:
            parts.append(self._count_log_prob(x[..., h.count]))
        parts = [part.expand(*batch, part.shape[-1]) for part in parts]
        return torch.cat(parts, -1)[..., h.inverse].masked_fill(missing, 0.0)  # type order -> column order

    def _count_log_prob(self, k: torch.Tensor) -> torch.Tensor:
        log_mean = self.count_log_mean
        if self.head.count_type == "poisson":
            return k * log_mean - log_mean.exp() - torch.lgamma(k + 1)
        r = self.count_log_dispersion.exp()  # NB(mean mu, dispersion r): variance mu + mu^2 / r
        log_r_plus_mu = torch.logaddexp(self.count_log_dispersion, log_mean)
        return (
            torch.lgamma(k + r)
            - torch.lgamma(r)
            - torch.lgamma(k + 1)
            + r * (self.count_log_dispersion - log_r_plus_mu)
            + k * (log_mean - log_r_plus_mu)
        )

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x_obs | z) of rows x (..., D), missing cells NaN: (...,) nats (log p(x | z) of a complete row)."""
        return self.column_log_prob(x).sum(-1)

    @property
    def mean(self) -> torch.Tensor:
        """The point value of each column in the model's numbers, (..., D): the mean of a real or count column, the
        probability of a binary one's second value, and the most probable category of a categorical one."""
        h = self.head
        parts = [self.real_mean, torch.sigmoid(self.bin_logits)]
        parts += [logits.argmax(-1, keepdim=True).to(self.real_mean.dtype) for logits in self.cat_logits]
        parts.append(self.count_log_mean.exp())
        return torch.cat(parts, -1)[..., h.inverse]

    def mixture_point(self, weights: torch.Tensor) -> torch.Tensor:
        """The point value of each column under the mixture sum_s w_s p(x|z_s), (B, D) in the model's numbers: the
        mean of a real or count column, the probability of a binary one's second value, and the most probable
        category of a categorical one (the argmax of the mixed probabilities).

        weights: (S, B), non-negative, summing to 1 over S; this distribution's batch shape is (S, B). With
        self-normalized importance weights this is MIWAE's single imputation E[x | x_obs] (Mattei & Frellsen 2019).
        """
        w = weights.unsqueeze(-1)  # (S, B, 1)

        def mixed(t: torch.Tensor) -> torch.Tensor:
            return (w * t).sum(0)  # (S, B, n) -> (B, n)

        parts = [mixed(self.real_mean), mixed(torch.sigmoid(self.bin_logits))]
        parts += [
            mixed(torch.softmax(logits, -1)).argmax(-1, keepdim=True).to(self.real_mean.dtype)
            for logits in self.cat_logits
        ]
        parts.append(mixed(self.count_log_mean.exp()))
        return torch.cat(parts, -1)[..., self.head.inverse]

    def sample(self, sample_shape: torch.Size | tuple = (), generator: torch.Generator | None = None) -> torch.Tensor:
        """Rows drawn from p(x|z), (sample_shape..., ..., D) in the model's numbers."""
        with torch.no_grad():
            shape = torch.Size(sample_shape) + self.batch_shape

            def expand(t: torch.Tensor) -> torch.Tensor:
                return t.expand(*shape, t.shape[-1])

            mean = expand(self.real_mean)
            eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
            parts = [mean + torch.exp(expand(self.real_log_sigma)) * eps]
            parts.append(torch.bernoulli(torch.sigmoid(expand(self.bin_logits)), generator=generator))
            for logits in self.cat_logits:
                probs = torch.softmax(expand(logits), -1)
                drawn = torch.multinomial(probs.reshape(-1, probs.shape[-1]), 1, generator=generator)
                parts.append(drawn.view(*probs.shape[:-1], 1).to(mean.dtype))
            parts.append(self._sample_counts(shape, expand, generator))
            return torch.cat(parts, -1)[..., self.head.inverse]

    def _sample_counts(self, shape, expand, generator: torch.Generator | None) -> torch.Tensor:
        rate = expand(self.count_log_mean).exp()
        if self.head.count_type == "negative_binomial" and rate.numel():
            r = expand(self.count_log_dispersion).exp()
            seed = int(torch.randint(2**62, (1,), generator=generator, device=rate.device))
            with torch.random.fork_rng(devices=[]):  # torch's gamma sampler takes no generator: seed from ours
                torch.manual_seed(seed)
                rate = torch._standard_gamma(r) * rate / r  # Gamma(r, r / mu): a Poisson mixture with mean mu
        return torch.poisson(rate, generator=generator) if rate.numel() else rate


class ColumnsLikelihood(nn.Module):
    """The head of p(x|z) for a table: decoder output (..., P) -> MixedColumns.

    P = R real means (+ R log-sigmas when the decoder gives them) + one logit per binary column + K logits per
    categorical column + one log-mean per count column (+ one log-dispersion each for the negative binomial).
    """

    def __init__(self, spec: DataSpec, sigma: float, learn_sigma: str, count: str) -> None:
        super().__init__()
        self.real, self.binary = _index(spec, "real"), _index(spec, "binary")
        self.categorical, self.count = _index(spec, "categorical"), _index(spec, "count")
        self.cat_sizes = [len(spec.columns[j].categories) for j in self.categorical]
        self.count_type = count
        self.order = self.real + self.binary + self.categorical + self.count
        self.inverse = [self.order.index(j) for j in range(len(self.order))]
        self.sigma_from_decoder = learn_sigma == "decoder"
        log_sigma = torch.full((len(self.real),) if learn_sigma == "per_column" else (), math.log(sigma))
        if learn_sigma in ("none", "decoder"):
            self.register_buffer("log_sigma", log_sigma)
        else:
            self.log_sigma = nn.Parameter(log_sigma)
        log_std = [math.log(spec.columns[j].std) for j in self.real]
        self.register_buffer("log_std", torch.tensor(log_std, dtype=torch.float64), persistent=False)
        # an untrained decoder's count rates start at the column's training mean (its output 0 + this offset)
        log_mean = [math.log(max(spec.columns[j].mean, 1e-3)) for j in self.count]
        self.register_buffer("count_offset", torch.tensor(log_mean, dtype=torch.float32), persistent=False)
        num_count = len(self.count)
        self.sizes = [
            len(self.real),
            len(self.real) if self.sigma_from_decoder else 0,
            len(self.binary),
            sum(self.cat_sizes),
            num_count,
            num_count if count == "negative_binomial" else 0,
        ]
        self.parameter_shape = (sum(self.sizes),)

    def forward(self, params: torch.Tensor) -> MixedColumns:
        params = params if params.dtype in (torch.float32, torch.float64) else params.float()
        return MixedColumns(self, params)


def build_columns(cfg, spec: DataSpec) -> ColumnsLikelihood:
    """The head of model.likelihood.type=columns (its keys are checked by its schema, vaekit.config)."""
    return ColumnsLikelihood(spec, cfg.sigma, cfg.learn_sigma, cfg.count)
