"""What every objective returns, how one is built from the config, and pieces objectives share."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from vaekit.config import ObjectiveConfig
from vaekit.registry import OBJECTIVES


class LossOutput(NamedTuple):
    """`loss` is the scalar to minimise; `metrics` are batch means (detached scalars) to log, in nats."""

    loss: torch.Tensor
    metrics: dict[str, torch.Tensor]


def build_objective(cfg: ObjectiveConfig, steps_per_epoch: int = 1, *, capabilities: frozenset[str]):
    """The objective named by cfg.name (registered by the modules that vaekit.objectives imports).

    cfg is the schema of the objective's variant (vaekit.config: ElboConfig, IwaeConfig, ...), whose keys and values
    were checked when it was built. `capabilities` are the model's (vaekit.models.capabilities), for the options
    that need one (free bits per dimension or per layer, a factorized posterior); `steps_per_epoch` converts
    schedules given in epochs (objective.warmup_epochs) to steps.
    """
    return OBJECTIVES.get(cfg.name)(cfg, steps_per_epoch, capabilities)


def schedule_steps(steps: int, epochs: float, steps_per_epoch: int) -> int:
    """The length in steps of a schedule given in steps and epochs (the two add up)."""
    return steps + math.ceil(epochs * steps_per_epoch)


def linear_ramp(step: int, steps: int, start: float = 0.0) -> float:
    """start + (1 - start) * min(1, step / steps): `start` at step 0, 1 from `steps` on, and 1 throughout when
    steps <= 0. He et al. 2019 warm the KL weight up from start = 0.1 (Bowman et al. 2016 and Sonderby et al. 2016
    from 0)."""
    return 1.0 if steps <= 0 else start + (1.0 - start) * min(1.0, step / steps)


def cyclical_ramp(step: int, steps: int, cycles: int, ratio: float, start: float = 0.0) -> float:
    """Fu et al. 2019's cyclical schedule ("Cyclical Annealing Schedule: A Simple Approach to Mitigating KL
    Vanishing"): the first `steps` steps are cut into `cycles` cycles of steps / cycles steps; within each, the
    weight rises linearly from `start` to 1 over the first `ratio` of the cycle, then holds 1. From `steps` on
    (and throughout when steps <= 0) it is 1.
    """
    if steps <= 0 or step >= steps:
        return 1.0
    period = steps / cycles
    position = (step % period) / period  # tau in [0, 1): where the step lies in its cycle
    return start + (1.0 - start) * min(1.0, position / ratio)
