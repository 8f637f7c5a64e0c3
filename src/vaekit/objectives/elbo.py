"""The evidence lower bound with a weight on the KL term, a linear KL warm-up, and free bits.

beta = 1: the ELBO of Kingma & Welling 2014; beta > 1: the beta-VAE of Higgins et al. 2017. Warm-up ramps
the KL weight linearly from 0 to beta (Bowman et al. 2016; Sonderby et al. 2016). Free bits replace the
KL term by sum_j max(lambda, KL_j averaged over the batch) over groups j of latent dimensions (Kingma et al.
2016, "Improved Variational Inference with Inverse Autoregressive Flow").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from vaekit.config import ObjectiveConfig
from vaekit.distributions import DiagonalGaussian
from vaekit.errors import ConfigError
from vaekit.objectives.base import LossOutput, linear_ramp, schedule_steps
from vaekit.registry import OBJECTIVES


class ElboTerms(NamedTuple):
    """Per-example terms in nats: elbo = log_px_z - kl, each (B,); kl_per_dim (B, D); the draws z (L, B, D)."""

    log_px_z: torch.Tensor  # E_q[log p(x|z)], estimated with num_samples draws
    kl: torch.Tensor  # KL(q(z|x) || p(z)), closed form
    elbo: torch.Tensor
    kl_per_dim: torch.Tensor
    qz_x: DiagonalGaussian  # q(z|x), batch shape (B,)
    z: torch.Tensor  # the reparameterized draws behind log_px_z, (L, B, D)


def elbo_terms(model, x: torch.Tensor, num_samples: int = 1, generator: torch.Generator | None = None) -> ElboTerms:
    """ELBO terms of x (B, C, H, W) with L = num_samples reparameterized draws of z per example."""
    qz_x = model.posterior(x)
    z = qz_x.rsample((num_samples,), generator=generator)  # (L, B, D)
    log_px_z = model.likelihood(z).log_prob(x).mean(0)  # (L, B) -> (B,)
    kl_per_dim = model.kl_per_dim(qz_x)  # (B, D)
    kl = kl_per_dim.sum(-1)  # (B,)
    return ElboTerms(log_px_z, kl, log_px_z - kl, kl_per_dim, qz_x, z)


def elbo_metrics(terms: ElboTerms) -> dict[str, torch.Tensor]:
    """The batch means every ELBO-based objective logs, detached: elbo, reconstruction, kl."""
    return {
        "elbo": terms.elbo.mean().detach(),
        "reconstruction": terms.log_px_z.mean().detach(),
        "kl": terms.kl.mean().detach(),
    }


def free_bits_kl(kl_per_dim: torch.Tensor, threshold: float, group_size: int) -> torch.Tensor:
    """sum_j max(threshold, mean_batch KL_j) over groups of `group_size` consecutive dimensions; a scalar.

    Groups whose batch-averaged KL is below the threshold get no gradient from the KL term.
    """
    batch, dim = kl_per_dim.shape
    group_kl = kl_per_dim.mean(0).view(dim // group_size, group_size).sum(-1)  # (G,)
    return torch.clamp(group_kl, min=threshold).sum()


@dataclass
class Elbo:
    """Minimise -(E_q[log p(x|z)] - w(step) * KL), summed over dimensions, averaged over the batch.

    w(step) = beta * min(1, step / warmup_steps) (beta when warmup_steps = 0). With free_bits > 0 the KL
    term is free_bits_kl(...) instead. Reported metrics are always the plain ELBO terms.
    """

    beta: float = 1.0
    num_samples: int = 1
    warmup_steps: int = 0
    free_bits: float = 0.0
    free_bits_group_size: int = 1

    def kl_weight(self, step: int) -> float:
        return self.beta * linear_ramp(step, self.warmup_steps)

    def __call__(self, model, x: torch.Tensor, *, step: int, generator: torch.Generator | None) -> LossOutput:
        terms = elbo_terms(model, x, self.num_samples, generator)
        weight = self.kl_weight(step)
        if self.free_bits > 0:
            kl_term = free_bits_kl(terms.kl_per_dim, self.free_bits, self.free_bits_group_size)
        else:
            kl_term = terms.kl.mean()
        loss = -terms.log_px_z.mean() + weight * kl_term
        return LossOutput(loss, elbo_metrics(terms))


@OBJECTIVES.register("elbo")
def build_elbo(cfg: ObjectiveConfig, steps_per_epoch: int = 1) -> Elbo:
    if cfg.free_bits < 0:
        raise ConfigError(f"objective.free_bits must be >= 0 nats, got {cfg.free_bits}.")
    warmup = schedule_steps(cfg.warmup_steps, cfg.warmup_epochs, steps_per_epoch)
    return Elbo(cfg.beta, cfg.num_samples, warmup, cfg.free_bits, cfg.free_bits_group_size)
