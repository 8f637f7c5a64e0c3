"""The evaluation report of a VAE on a data split: `vaekit evaluate` writes it as JSON."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch

from vaekit.evaluate.diagnostics import active_units
from vaekit.evaluate.likelihood import bits_per_dim, iw_log_likelihood
from vaekit.objectives.elbo import elbo_terms


@torch.no_grad()
def likelihood_report(
    model,
    x: torch.Tensor,
    *,
    iw_samples: int = 5000,
    batch_size: int = 100,
    generator: torch.Generator | None = None,
    transform: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """ELBO, importance-weighted log p(x), their gap, KL per dimension and active units, nats per example.

    x: (N, C, H, W). `transform` (e.g. a fresh binarization) is applied to each batch with `generator`.
    `progress(n)` is called with the number of examples done after each batch.
    """
    model.eval()
    start = time.perf_counter()
    sums = {"elbo": 0.0, "reconstruction": 0.0, "kl": 0.0, "log_likelihood": 0.0}
    kl_per_dim = None
    means = []
    for xb in x.split(batch_size):
        if transform is not None:
            xb = transform(xb, generator)
        terms = elbo_terms(model, xb, 1, generator)
        sums["elbo"] += terms.elbo.sum().item()
        sums["reconstruction"] += terms.log_px_z.sum().item()
        sums["kl"] += terms.kl.sum().item()
        dim_sum = terms.kl_per_dim.double().sum(0)  # (D,)
        kl_per_dim = dim_sum if kl_per_dim is None else kl_per_dim + dim_sum
        means.append(model.posterior(xb).mean)
        sums["log_likelihood"] += iw_log_likelihood(model, xb, iw_samples, generator).sum().item()
        if progress:
            progress(xb.shape[0])
    n = x.shape[0]
    report = {k: v / n for k, v in sums.items()}
    count, variance = active_units(torch.cat(means))
    report.update(
        elbo_gap=report["log_likelihood"] - report["elbo"],
        bits_per_dim=bits_per_dim(report["log_likelihood"], math.prod(x.shape[1:])),
        kl_per_dim=(kl_per_dim / n).tolist(),
        active_units=count,
        posterior_mean_variance=variance.tolist(),
        num_examples=n,
        iw_samples=iw_samples,
        seconds=time.perf_counter() - start,
    )
    return report
