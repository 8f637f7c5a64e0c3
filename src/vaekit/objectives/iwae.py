"""The importance-weighted bound (Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders").

log p(x) >= E[log (1/k) sum_i p(x, z_i) / q(z_i|x)], z_i ~ q(z|x); k = 1 is the ELBO, and the bound
tightens as k grows. The same log-weights give the log-likelihood estimate in vaekit.evaluate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from vaekit.config import IwaeConfig
from vaekit.distributions import log_prob
from vaekit.objectives.base import LossOutput
from vaekit.registry import OBJECTIVES


def log_importance_weights(
    model, x: torch.Tensor, qz_x, z: torch.Tensor, generator: torch.Generator | None = None, **cond
) -> torch.Tensor:
    """log w = log p(x|z) + log p(z) - log q(z|x) for z (S, B, D) drawn from qz_x; shape (S, B).

    With `cond` (a conditional model's labels) the weights are of p(x|y). `generator`: for a likelihood's training
    noise (word dropout), in training only.
    """
    log_px_z = log_prob(model.likelihood(z, **cond), x, generator)  # (S, B)
    return log_px_z + model.log_prior_ratio(qz_x, z, **cond)


@dataclass
class Iwae:
    """Minimise -(logsumexp_i log w_i - log k), averaged over the batch."""

    num_samples: int = 5

    def __call__(self, model, x: torch.Tensor, *, step: int, generator: torch.Generator | None, **cond) -> LossOutput:
        qz_x = model.posterior(x, **cond)
        z = qz_x.rsample((self.num_samples,), generator=generator)  # (k, B, D)
        log_w = log_importance_weights(model, x, qz_x, z, generator, **cond)  # (k, B)
        bound = torch.logsumexp(log_w, 0) - math.log(self.num_samples)  # (B,)
        with torch.no_grad():
            kl = model.kl(qz_x, z, **cond)  # (B,): closed form where known, else the k-draw estimate
            elbo = log_w.mean(0)  # a k-sample estimate of the ELBO
            # elbo + kl estimates E_q[log p(x|z)] without bias, since E_q[log p(z) - log q(z|x)] = -kl
        metrics = {
            "iwae_bound": bound.mean().detach(),
            "elbo": elbo.mean(),
            "reconstruction": (elbo + kl).mean(),
            "kl": kl.mean(),
        }
        return LossOutput(-bound.mean(), metrics)


@OBJECTIVES.register("iwae")
def build_iwae(cfg: IwaeConfig, steps_per_epoch: int, capabilities: frozenset[str]) -> Iwae:
    return Iwae(cfg.num_samples)
