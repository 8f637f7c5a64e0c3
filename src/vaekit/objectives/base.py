"""What every objective returns, how one is built from the config, and pieces objectives share."""

from __future__ import annotations

from typing import NamedTuple

import torch

from vaekit.config import ObjectiveConfig
from vaekit.registry import OBJECTIVES


class LossOutput(NamedTuple):
    """`loss` is the scalar to minimise; `metrics` are batch means (detached scalars) to log, in nats."""

    loss: torch.Tensor
    metrics: dict[str, torch.Tensor]


def repeat_batch(x: torch.Tensor, num_samples: int) -> torch.Tensor:
    """x (B, ...) -> (S*B, ...), sample-major, to pair with z.flatten(0, 1) of z (S, B, D); no copy for S = 1."""
    if num_samples == 1:
        return x
    return x.expand(num_samples, *x.shape).reshape(num_samples * x.shape[0], *x.shape[1:])


def build_objective(cfg: ObjectiveConfig, steps_per_epoch: int = 1):
    """The objective named by cfg.name (registered by the modules that vaekit.objectives imports).

    `steps_per_epoch` converts schedules given in epochs (objective.warmup_epochs) to steps.
    """
    return OBJECTIVES.get(cfg.name)(cfg, steps_per_epoch)
