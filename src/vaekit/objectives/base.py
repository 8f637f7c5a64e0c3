"""What every objective returns, and how one is built from the config."""

from __future__ import annotations

from typing import NamedTuple

import torch

from vaekit.config import ObjectiveConfig
from vaekit.registry import OBJECTIVES


class LossOutput(NamedTuple):
    """`loss` is the scalar to minimise; `metrics` are batch means (detached scalars) to log, in nats."""

    loss: torch.Tensor
    metrics: dict[str, torch.Tensor]


def build_objective(cfg: ObjectiveConfig):
    """The objective named by cfg.name (registered by the modules that vaekit.objectives imports)."""
    return OBJECTIVES.get(cfg.name)(cfg)
