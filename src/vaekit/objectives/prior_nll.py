"""The objective of a VQ-VAE's second stage: the negative log-likelihood of code maps under the prior.

Its "model" is the prior (e.g. vaekit.nn.pixelcnn.GatedPixelCNN, anything with `log_prob(codes) -> (B,)`) and its
data are code maps (B, h, w), so the generic training loop fits the prior as it fits any model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from vaekit.objectives.base import LossOutput


@dataclass
class PriorNll:
    """Minimise -log p(c) averaged over the batch; metrics: nll (nats per code map) and bits_per_code."""

    def __call__(self, model, codes: torch.Tensor, *, step: int, generator: torch.Generator | None) -> LossOutput:
        nll = -model.log_prob(codes)  # (B,)
        loss = nll.mean()
        metrics = {"nll": loss.detach(), "bits_per_code": loss.detach() / (codes[0].numel() * math.log(2.0))}
        return LossOutput(loss, metrics)
