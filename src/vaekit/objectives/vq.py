"""The VQ-VAE objective: reconstruction + codebook + beta * commitment (van den Oord et al. 2017, eq. 3).

loss = -log p(x|z_q(x)) + ||sg[z_e(x)] - e||^2 + beta ||z_e(x) - sg[e]||^2 with beta = 0.25, each term summed over
the example's dimensions and the batch averaged once at the end. The prior over codes is uniform during this
stage, so its KL term is a constant (log K per position) and is left out. With an EMA codebook the codebook term
carries no gradient (the quantizer moves the codebook itself) but is still reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from vaekit.config import VqObjectiveConfig
from vaekit.models.quantizer import Quantized, VectorQuantizer
from vaekit.objectives.base import LossOutput
from vaekit.registry import OBJECTIVES


class VQTerms(NamedTuple):
    """Per-example terms of x, each (B,), with what the quantizer returned and the encoder's output."""

    log_px_z: torch.Tensor  # log p(x|z_q) in nats
    codebook_loss: torch.Tensor  # ||sg[z_e] - e||^2 summed over D, h, w
    commitment_loss: torch.Tensor  # ||z_e - sg[e]||^2 summed over D, h, w
    quantized: Quantized
    z_e: torch.Tensor  # (B, D, h, w)


def vq_terms(model, x: torch.Tensor) -> VQTerms:
    """The VQ-VAE's terms for x (B, C, H, W); in training mode the quantizer also updates its statistics."""
    z_e = model.encoder(x)  # (B, D, h, w)
    q = model.quantizer(z_e)
    log_px_z = model.likelihood(q.z_q).log_prob(x)  # (B,)
    return VQTerms(log_px_z, q.codebook_loss, q.commitment_loss, q, z_e)


@dataclass
class VQObjective:
    """Minimise -log p(x|z_q) + codebook + commitment * commitment_loss, averaged over the batch.

    With revive_every > 0, every revive_every-th training step re-seeds the codes whose usage EMA is below
    revive_threshold with encoder outputs of the batch, drawn with the loop's generator (so a resumed run
    revives the same codes). Metrics: reconstruction (log p(x|z_q), nats), codebook_loss, commitment_loss,
    perplexity (of this batch's codes) and dead_codes (before any revival in this step).
    """

    commitment: float = 0.25
    revive_every: int = 0
    revive_threshold: float = 1.0

    def __call__(self, model, x: torch.Tensor, *, step: int, generator: torch.Generator | None) -> LossOutput:
        terms = vq_terms(model, x)
        loss = (-terms.log_px_z + terms.codebook_loss + self.commitment * terms.commitment_loss).mean()
        quantizer: VectorQuantizer = model.quantizer
        dead = quantizer.dead_codes(self.revive_threshold).sum()
        if self.revive_every and model.training and (step + 1) % self.revive_every == 0:
            if generator is None:
                raise ValueError("dead-code revival draws encoder outputs with a generator; pass one")
            quantizer.revive_dead_codes(quantizer.flatten(terms.z_e), generator, self.revive_threshold)
        metrics = {
            "reconstruction": terms.log_px_z.mean().detach(),
            "codebook_loss": terms.codebook_loss.mean().detach(),
            "commitment_loss": terms.commitment_loss.mean().detach(),
            "perplexity": terms.quantized.perplexity.detach(),
            "dead_codes": dead.to(torch.float32),
        }
        return LossOutput(loss, metrics)


@OBJECTIVES.register("vq")
def build_vq(cfg: VqObjectiveConfig, steps_per_epoch: int, capabilities: frozenset[str]) -> VQObjective:
    return VQObjective(cfg.commitment, cfg.revive_every, cfg.revive_threshold)
