"""Posterior-collapse diagnostics: KL per latent dimension and active units."""

from __future__ import annotations

import torch

from vaekit.train.loop import evaluate_batches

COLLAPSE_NATS = 0.01  # a latent dimension whose mean KL is below this carries (next to) no information about x


def collapse_warning(kl_per_dim: torch.Tensor) -> str | None:
    """What to say, and what to try, when every latent dimension collapsed: each mean KL (D,) in nats, measured on
    the test split, under COLLAPSE_NATS; None otherwise. The one wording of the end of training and the report."""
    if kl_per_dim.numel() == 0 or float(kl_per_dim.max()) >= COLLAPSE_NATS:
        return None
    return (
        f"posterior collapse: all {kl_per_dim.numel()} latent dimensions carry less than {COLLAPSE_NATS} nats of KL "
        f"on the test split (largest {float(kl_per_dim.max()):.2g}), so z says nothing about x and the decoder models "
        "the data alone. Try a KL warm-up (objective.warmup_epochs=10), free bits (objective.free_bits=0.5), a "
        "smaller objective.beta, a smaller model.latent_dim or more epochs; for a table, a decoder with less freedom "
        "(model.likelihood.learn_sigma=per_column instead of decoder)."
    )


def active_units(posterior_means: torch.Tensor, threshold: float = 0.01) -> tuple[int, torch.Tensor]:
    """Burda et al. 2016: dimension d is active when Cov_x(E_q[z_d|x]) > threshold.

    posterior_means: (N, D), the posterior means of N examples. Returns (count, per-dimension variance (D,)).
    """
    variance = posterior_means.double().var(0, unbiased=True)  # (D,)
    return int((variance > threshold).sum()), variance


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
