"""Likelihood-based evaluation in nats per example."""

from __future__ import annotations

import torch

from vaekit.objectives.elbo import elbo_terms


@torch.no_grad()
def elbo_per_example(model, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """ELBO (beta = 1, one sample), E_q[log p(x|z)] and KL for each example of x; each (B,)."""
    terms = elbo_terms(model, x, 1, generator)
    return {"elbo": terms.elbo, "reconstruction": terms.log_px_z, "kl": terms.kl}
