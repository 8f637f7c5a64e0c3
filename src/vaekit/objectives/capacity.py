"""Capacity-controlled beta-VAE (Burgess et al. 2018, "Understanding disentangling in beta-VAE").

The KL is pulled towards a target capacity C that rises linearly from 0 to C_max: the encoder may carry only
about C nats about x, and more as training goes on, so the factors that explain most of the reconstruction
are encoded first. The target is on the batch-mean KL, as in the paper's experiments.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vaekit.config import CapacityConfig
from vaekit.objectives.base import LossOutput, linear_ramp, schedule_steps
from vaekit.objectives.elbo import elbo_metrics, elbo_terms
from vaekit.registry import OBJECTIVES


@dataclass
class CapacityElbo:
    """Minimise -E_q[log p(x|z)] + gamma * |KL - C(step)|, with C(step) = capacity_max * min(1, step / steps).

    Both terms are batch means (nats per example). Above C the KL term pushes the KL down, below C it
    pushes it up. Reported metrics are the plain ELBO terms and the current capacity C.
    """

    gamma: float = 1000.0
    capacity_max: float = 25.0
    capacity_steps: int = 100_000
    num_samples: int = 1

    def capacity(self, step: int) -> float:
        return self.capacity_max * linear_ramp(step, self.capacity_steps)

    def __call__(self, model, x: torch.Tensor, *, step: int, generator: torch.Generator | None, **cond) -> LossOutput:
        terms = elbo_terms(model, x, self.num_samples, generator, **cond)
        capacity = self.capacity(step)
        loss = -terms.log_px_z.mean() + self.gamma * (terms.kl.mean() - capacity).abs()
        metrics = elbo_metrics(terms)
        metrics["capacity"] = torch.tensor(capacity, dtype=torch.float64, device=x.device)
        return LossOutput(loss, metrics)


@OBJECTIVES.register("capacity")
def build_capacity(cfg: CapacityConfig, steps_per_epoch: int, capabilities: frozenset[str]) -> CapacityElbo:
    steps = schedule_steps(cfg.capacity_steps, cfg.capacity_epochs, steps_per_epoch)
    return CapacityElbo(cfg.gamma, cfg.capacity_max, steps, cfg.num_samples)
