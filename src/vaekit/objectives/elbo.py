"""The evidence lower bound, with a weight beta on the KL term (beta = 1: the ELBO of Kingma & Welling 2014;
beta > 1: the beta-VAE of Higgins et al. 2017)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from vaekit.config import ObjectiveConfig
from vaekit.objectives.base import LossOutput
from vaekit.registry import OBJECTIVES


class ElboTerms(NamedTuple):
    """Per-example terms in nats, each of shape (B,): elbo = log_px_z - kl."""

    log_px_z: torch.Tensor  # E_q[log p(x|z)], estimated with num_samples draws
    kl: torch.Tensor  # KL(q(z|x) || p(z)), closed form
    elbo: torch.Tensor


def elbo_terms(model, x: torch.Tensor, num_samples: int = 1, generator: torch.Generator | None = None) -> ElboTerms:
    """ELBO terms of x (B, C, H, W) with L = num_samples reparameterized draws of z per example."""
    qz_x = model.posterior(x)
    z = qz_x.rsample((num_samples,), generator=generator)  # (L, B, D)
    batch = x.shape[0]
    x_rep = x if num_samples == 1 else x.expand(num_samples, *x.shape).reshape(num_samples * batch, *x.shape[1:])
    log_px_z = model.likelihood(z.flatten(0, 1)).log_prob(x_rep)  # (L*B,)
    log_px_z = log_px_z.view(num_samples, batch).mean(0)  # (B,)
    kl = model.kl_per_dim(qz_x).sum(-1)  # (B, D) -> (B,)
    return ElboTerms(log_px_z, kl, log_px_z - kl)


@dataclass
class Elbo:
    """Minimise -(E_q[log p(x|z)] - beta * KL), summed over dimensions, averaged over the batch."""

    beta: float = 1.0
    num_samples: int = 1

    def __call__(self, model, x: torch.Tensor, *, step: int, generator: torch.Generator | None) -> LossOutput:
        terms = elbo_terms(model, x, self.num_samples, generator)
        loss = -(terms.log_px_z - self.beta * terms.kl).mean()
        metrics = {
            "elbo": terms.elbo.mean().detach(),
            "reconstruction": terms.log_px_z.mean().detach(),
            "kl": terms.kl.mean().detach(),
        }
        return LossOutput(loss, metrics)


@OBJECTIVES.register("elbo")
def build_elbo(cfg: ObjectiveConfig) -> Elbo:
    return Elbo(beta=cfg.beta, num_samples=cfg.num_samples)
