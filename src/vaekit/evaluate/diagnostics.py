"""Posterior-collapse diagnostics: KL per latent dimension, mutual information I(x; z), active units.

Each is a pure function of tensors; `latent_diagnostics` measures a model's on a data set, for the log of every
training epoch and for `vaekit evaluate`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from vaekit.distributions import GaussianMixture
from vaekit.train.distributed import SINGLE_PROCESS, DistContext
from vaekit.train.loop import Cond, evaluate_batches

COLLAPSE_NATS = 0.01  # a latent dimension whose mean KL is below this carries (next to) no information about x
ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. 2016's threshold on Cov_x(E_q[z_d|x])
# The batch whose aggregate posterior the mutual information is measured with, in the training log and in `vaekit
# evaluate` alike (the estimate depends on it: it is at most log of it)
MI_BATCH_SIZE = 1000

# The remedies a collapsed run is pointed to, each with the config keys that switch it on.
REMEDIES = (
    "a KL warm-up from 0.1 (He et al. 2019: objective.warmup_epochs=10 objective.warmup_start=0.1)",
    "cyclical KL annealing (Fu et al. 2019: objective.warmup_schedule=cyclical objective.warmup_cycles=4 "
    "objective.warmup_cycle_ratio=0.5, with objective.warmup_epochs as long as train.epochs)",
    "free bits per dimension (objective.free_bits=0.5)",
    "autoencoder pretraining, then a fresh decoder with free bits (Li et al. 2019: objective.pretrain_epochs=5 "
    "objective.free_bits=0.5)",
    "aggressive inference-network updates (He et al. 2019: train.aggressive=true)",
    "batch-normalized posterior means (BN-VAE, Zhu et al. 2020: model.posterior_bn_gamma=0.6)",
)


# What else to try, by kind of data
KIND_REMEDIES = {
    "table": "a decoder with less freedom (model.likelihood.learn_sigma=per_column instead of decoder)",
    "sequence": "word dropout in the decoder (Bowman et al. 2016: model.likelihood.word_dropout=0.25)",
}


def collapse_warning(kl_per_dim: torch.Tensor, kind: str = "image") -> str | None:
    """What to say, and what to try, when every latent dimension collapsed: each mean KL (D,) in nats, measured on
    the test split, under COLLAPSE_NATS; None otherwise. The one wording of the end of training and the report: it
    names each remedy with its config keys (REMEDIES, and KIND_REMEDIES for the data's `kind`)."""
    if kl_per_dim.numel() == 0 or float(kl_per_dim.max()) >= COLLAPSE_NATS:
        return None
    remedies = [*REMEDIES, *([KIND_REMEDIES[kind]] if kind in KIND_REMEDIES else [])]
    return (
        f"posterior collapse: all {kl_per_dim.numel()} latent dimensions carry less than {COLLAPSE_NATS} nats of KL "
        f"on the test split (largest {float(kl_per_dim.max()):.2g}), so z says nothing about x and the decoder models "
        f"the data alone. Remedies: {'; '.join(remedies)}. Or a smaller objective.beta, a smaller model.latent_dim, "
        "more epochs."
    )


def mutual_information_terms(
    mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor, chunk: int = 1024
) -> torch.Tensor:
    """Per-example terms of He et al. 2019's estimate of I(x; z) under q: their mean over the batch is the estimate.

    I = E_x E_q(z|x)[log q(z|x)] - E_z[log q(z)], with q(z) = (1/B) sum_j q(z|x_j) the aggregate posterior of the
    batch ("Lagging Inference Networks and Posterior Collapse in Variational Autoencoders"). For example i the term
    is -H[q(z|x_i)] - log q(z_i), z_i ~ q(z|x_i) one draw; the entropy is in closed form.

    mu, logvar, z: (B, D) for B examples of the batch. Returns (B,) in nats, float64. The estimate rises to I as B
    grows (it is at most log B: q(z) is a mixture of B posteriors), so estimates compare at one batch size.
    Computed in float64, in chunks of `chunk` draws, so memory is (chunk, B).
    """
    mu, logvar, z = mu.double(), logvar.double(), z.double()
    batch, dim = mu.shape
    aggregate = GaussianMixture(mu, logvar)  # (1/B) sum_j N(mu_j, diag(exp(logvar_j)))
    log_qz = torch.cat([aggregate.log_prob(part) for part in z.split(chunk)])  # (B,)
    neg_entropy = -0.5 * (dim * (1.0 + math.log(2.0 * math.pi)) + logvar.sum(-1))  # -H[N(mu, diag(e^logvar))], (B,)
    return neg_entropy - log_qz


def mutual_information(mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor) -> float:
    """He et al. 2019's estimate of I(x; z) over one batch (mutual_information_terms, averaged), in nats."""
    return float(mutual_information_terms(mu, logvar, z).mean())


def active_units(posterior_means: torch.Tensor, threshold: float = ACTIVE_UNIT_THRESHOLD) -> tuple[int, torch.Tensor]:
    """Burda et al. 2016: dimension d is active when Cov_x(E_q[z_d|x]) > threshold.

    posterior_means: (N, D), the posterior means of N examples. Returns (count, per-dimension variance (D,)).
    """
    variance = posterior_means.double().var(0, unbiased=True)  # (D,)
    return int((variance > threshold).sum()), variance


def active_units_of_moments(
    mean: torch.Tensor, mean_square: torch.Tensor, count: int, threshold: float = ACTIVE_UNIT_THRESHOLD
) -> tuple[int, torch.Tensor]:
    """`active_units` from the posterior means' first and second moments over `count` examples, each (D,) float64:
    what sums over batches (and processes) give, without holding the (N, D) means."""
    variance = (mean_square - mean.pow(2)).clamp(min=0.0) * (count / max(1, count - 1))  # unbiased, (D,)
    return int((variance > threshold).sum()), variance


@torch.no_grad()
def latent_diagnostics(
    model,
    x: torch.Tensor,
    capabilities: frozenset[str],
    *,
    batch_size: int = MI_BATCH_SIZE,
    generator: torch.Generator | None = None,
    transform: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    cond: Cond | None = None,
    ctx: DistContext = SINGLE_PROCESS,
) -> dict:
    """The collapse diagnostics a model's capabilities allow, over x (N, ...), in batches of `batch_size`.

    With `gaussian_posterior`: "mi", He et al. 2019's I(x; z) with the aggregate posterior of each batch, averaged
    over the examples (batches of batch_size: the estimate depends on it, "mi_batch_size"). With `latent_vector`:
    "active_units" and "posterior_mean_variance" (D floats) of the posterior means (model.encode). Nothing (an empty
    dict) for a model with neither. `transform` (a fresh binarization) is applied to each batch with `generator`.
    Under data parallelism (`ctx`) each process measures its share and the sums are combined.
    """
    mi = "gaussian_posterior" in capabilities
    means = "latent_vector" in capabilities
    if not (mi or means) or x.shape[0] == 0:
        return {}

    def per_example(xb: torch.Tensor, **cb) -> dict[str, torch.Tensor]:
        if transform is not None:
            xb = transform(xb, generator)
        parts: dict[str, torch.Tensor] = {}
        if mi:
            qz_x = model.posterior(xb, **cb)
            z = qz_x.sample(generator=generator)  # (B, D)
            parts["mi"] = mutual_information_terms(qz_x.loc, qz_x.logvar, z)  # (B,)
            mean = qz_x.loc
        else:
            mean = model.encode(xb, **cb)
        if means:
            parts["posterior_mean"] = mean  # (B, D)
            parts["posterior_mean_square"] = mean.double().pow(2)  # (B, D)
        return parts

    sums = evaluate_batches(per_example, x, batch_size, ctx, cond)
    out: dict = {}
    if mi:
        out.update(mi=sums["mi"], mi_batch_size=min(batch_size, x.shape[0]))
    if means:
        first = torch.tensor(sums["posterior_mean"], dtype=torch.float64)
        second = torch.tensor(sums["posterior_mean_square"], dtype=torch.float64)
        count, variance = active_units_of_moments(first, second, x.shape[0])
        out.update(active_units=count, posterior_mean_variance=variance.tolist())
    return out


@torch.no_grad()
def mean_kl_per_dim(model, x: torch.Tensor, batch_size: int = 1000, cond: dict | None = None) -> torch.Tensor:
    """KL(q(z|x) || p(z)) of each latent dimension, averaged over the examples of x (N, C, H, W): (D,), float64.

    Dimensions with a KL near 0 carry no information about x (collapsed to the prior). Needs a model with the
    `kl_per_dim` capability; `cond` holds a conditional model's labels for x.
    """

    def kl(xb: torch.Tensor, **cb) -> dict[str, torch.Tensor]:
        return {"kl": model.kl_per_dim(model.posterior(xb, **cb))}  # (B, D)

    means = evaluate_batches(kl, x, batch_size, cond=cond)["kl"]
    return torch.tensor(means, dtype=torch.float64)
