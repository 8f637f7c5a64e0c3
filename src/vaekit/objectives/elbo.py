"""The evidence lower bound with a weight on the KL term, its schedule, and free bits.

beta = 1: the ELBO of Kingma & Welling 2014; beta > 1: the beta-VAE of Higgins et al. 2017. The KL weight's
schedule, each a remedy for posterior collapse: a linear warm-up from 0 (Bowman et al. 2016; Sonderby et al. 2016)
or from a start such as 0.1 (He et al. 2019) to beta; cyclical annealing (Fu et al. 2019); and a first phase as an
autoencoder, KL weight 0, after which the training workflow re-initializes the decoder (Li et al. 2019). Free bits
replace the KL term by sum_j max(lambda, KL_j averaged over the batch) over groups j of latent dimensions (Kingma
et al. 2016, "Improved Variational Inference with Inverse Autoregressive Flow").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch.distributions import Distribution

from vaekit.config import ElboConfig
from vaekit.distributions import log_prob
from vaekit.errors import ConfigError
from vaekit.objectives.base import LossOutput, cyclical_ramp, linear_ramp, schedule_steps
from vaekit.registry import OBJECTIVES


class ElboTerms(NamedTuple):
    """Per-example terms in nats: elbo = log_px_z - kl, each (B,); q(z|x) and the draws z (L, B, D)."""

    log_px_z: torch.Tensor  # E_q[log p(x|z)], estimated with num_samples draws
    kl: torch.Tensor  # KL(q(z|x) || p(z)): closed form where the model has one, else Monte Carlo at z
    elbo: torch.Tensor
    qz_x: Distribution  # q(z|x), batch shape (B,)
    z: torch.Tensor  # the reparameterized draws behind log_px_z, (L, B, D)


def elbo_terms(
    model, x: torch.Tensor, num_samples: int = 1, generator: torch.Generator | None = None, **cond
) -> ElboTerms:
    """ELBO terms of x (B, C, H, W) with L = num_samples reparameterized draws of z per example.

    `cond` goes to the model's posterior, likelihood and KL (a conditional VAE's labels, y=(B,)). `generator` draws
    z, and a likelihood's training noise (word dropout: vaekit.distributions.NoisyInTraining).
    """
    qz_x = model.posterior(x, **cond)
    z = qz_x.rsample((num_samples,), generator=generator)  # (L, B, D)
    log_px_z = log_prob(model.likelihood(z, **cond), x, generator).mean(0)  # (L, B) -> (B,)
    kl = model.kl(qz_x, z, **cond)  # (B,)
    return ElboTerms(log_px_z, kl, log_px_z - kl, qz_x, z)


def elbo_metrics(terms: ElboTerms) -> dict[str, torch.Tensor]:
    """The batch means every ELBO-based objective logs, detached: elbo, reconstruction, kl."""
    return {
        "elbo": terms.elbo.mean().detach(),
        "reconstruction": terms.log_px_z.mean().detach(),
        "kl": terms.kl.mean().detach(),
    }


def free_bits_kl(kl_parts: torch.Tensor, threshold: float, group_size: int) -> torch.Tensor:
    """sum_j max(threshold, mean_batch KL_j) over groups of `group_size` consecutive parts; a scalar.

    kl_parts (B, P): the KL split per latent dimension, or per layer of a hierarchical model. Groups whose
    batch-averaged KL is below the threshold get no gradient from the KL term.
    """
    batch, parts = kl_parts.shape
    group_kl = kl_parts.mean(0).view(parts // group_size, group_size).sum(-1)  # (G,)
    return torch.clamp(group_kl, min=threshold).sum()


def kl_parts(model, terms: ElboTerms, per: str) -> torch.Tensor:
    """The KL of `terms` split per latent dimension (per="dim", (B, D)) or per layer (per="layer", (B, L))."""
    if per == "layer":
        return model.kl_per_layer(terms.qz_x, terms.z)
    return model.kl_per_dim(terms.qz_x)


def free_bits_unit(cfg: ElboConfig, capabilities: frozenset[str]) -> str:
    """What free bits are counted over for a model with these capabilities: "dim", or "layer"."""
    if "kl_per_dim" in capabilities:
        return "dim"
    if "layers" in capabilities:
        if cfg.free_bits_group_size != 1:
            raise ConfigError(
                "free bits of a hierarchical model are per layer: set objective.free_bits_group_size=1 "
                f"(got {cfg.free_bits_group_size})."
            )
        return "layer"
    raise ConfigError(
        "objective.free_bits needs the KL split per latent dimension (a VAE with the N(0, I) prior) or per layer "
        "(model.type=hvae); this model's KL is one Monte Carlo estimate. Set objective.free_bits=0."
    )


@dataclass
class Elbo:
    """Minimise -(E_q[log p(x|z)] - w(step) * KL), summed over dimensions, averaged over the batch.

    w(step) = 0 for the first pretrain_steps steps (an autoencoder, Li et al. 2019), then beta times the warm-up
    schedule at s = step - pretrain_steps: linear, start + (1 - start) * min(1, s / warmup_steps), or cyclical
    (Fu et al. 2019; vaekit.objectives.base.cyclical_ramp); beta when warmup_steps = 0. With free_bits > 0 the KL
    term is free_bits_kl(...) instead. Reported metrics are always the plain ELBO terms.
    """

    beta: float = 1.0
    num_samples: int = 1
    warmup_steps: int = 0
    free_bits: float = 0.0
    free_bits_group_size: int = 1
    free_bits_per: str = "dim"  # "dim" or "layer" (a hierarchical model's)
    warmup_start: float = 0.0
    warmup_schedule: str = "linear"  # or "cyclical"
    warmup_cycles: int = 4
    warmup_cycle_ratio: float = 0.5
    pretrain_steps: int = 0

    def kl_weight(self, step: int) -> float:
        if step < self.pretrain_steps:
            return 0.0
        s = step - self.pretrain_steps
        if self.warmup_schedule == "cyclical":
            ramp = cyclical_ramp(s, self.warmup_steps, self.warmup_cycles, self.warmup_cycle_ratio, self.warmup_start)
        else:
            ramp = linear_ramp(s, self.warmup_steps, self.warmup_start)
        return self.beta * ramp

    def __call__(self, model, x: torch.Tensor, *, step: int, generator: torch.Generator | None, **cond) -> LossOutput:
        terms = elbo_terms(model, x, self.num_samples, generator, **cond)
        weight = self.kl_weight(step)
        if self.free_bits > 0:
            parts = kl_parts(model, terms, self.free_bits_per)
            kl_term = free_bits_kl(parts, self.free_bits, self.free_bits_group_size)
        else:
            kl_term = terms.kl.mean()
        loss = -terms.log_px_z.mean() + weight * kl_term
        return LossOutput(loss, elbo_metrics(terms))


@OBJECTIVES.register("elbo")
def build_elbo(cfg: ElboConfig, steps_per_epoch: int, capabilities: frozenset[str]) -> Elbo:
    per = free_bits_unit(cfg, capabilities) if cfg.free_bits > 0 else "dim"
    warmup = schedule_steps(cfg.warmup_steps, cfg.warmup_epochs, steps_per_epoch)
    return Elbo(
        cfg.beta,
        cfg.num_samples,
        warmup,
        cfg.free_bits,
        cfg.free_bits_group_size,
        per,
        cfg.warmup_start,
        cfg.warmup_schedule,
        cfg.warmup_cycles,
        cfg.warmup_cycle_ratio,
        pretrain_steps=cfg.pretrain_epochs * steps_per_epoch,
    )
