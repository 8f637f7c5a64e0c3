"""One pass over in-memory training data. Knows nothing about VAEs: it calls an objective and steps."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from vaekit.errors import VaekitError

Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass
class EpochResult:
    metrics: dict[str, float]  # means over the epoch's examples
    steps: int
    seconds: float


def batches(num: int, batch_size: int, generator: torch.Generator, device: torch.device) -> list[torch.Tensor]:
    """A fresh random permutation of range(num), cut into batches (the last one may be smaller)."""
    perm = torch.randperm(num, generator=generator, device=device)
    return list(perm.split(batch_size))


def train_epoch(
    model: torch.nn.Module,
    objective: Callable,
    optimizer: torch.optim.Optimizer,
    data: torch.Tensor,
    *,
    batch_size: int,
    step: int,
    generator: torch.Generator,
    transform: Transform | None = None,
    progress: bool = True,
    description: str = "train",
) -> EpochResult:
    """Shuffle `data` (N, ...), and take one optimizer step per batch of the objective's loss.

    `step` is the global step count before this epoch (passed to the objective for schedules). Every random
    draw (shuffling, the transform, the objective's samples) comes from `generator`.
    """
    model.train()
    start = time.perf_counter()
    sums: dict[str, torch.Tensor] = {}
    count = 0
    index_batches = batches(data.shape[0], batch_size, generator, data.device)
    bar = tqdm(index_batches, desc=description, leave=False, disable=None if progress else True, unit="batch")
    for i, idx in enumerate(bar):
        x = data.index_select(0, idx)  # (B, C, H, W)
        if transform is not None:
            x = transform(x, generator)
        out = objective(model, x, step=step, generator=generator)
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        optimizer.step()
        step += 1
        n = x.shape[0]
        count += n
        for name, value in out.metrics.items():
            sums[name] = sums[name] + value * n if name in sums else value * n
        if i % 50 == 0:
            loss = out.loss.item()
            if not math.isfinite(loss):
                raise VaekitError(
                    f"the training loss became {loss} at step {step}. Lower train.lr, or check the data "
                    "(a gaussian likelihood with a tiny sigma, or unscaled inputs, can diverge)."
                )
            bar.set_postfix(loss=f"{loss:.2f}", refresh=False)
    bar.close()
    metrics = {name: (total / count).item() for name, total in sums.items()}
    return EpochResult(metrics, step, time.perf_counter() - start)


@torch.no_grad()
def evaluate_batches(
    fn: Callable[[torch.Tensor], dict[str, torch.Tensor]], data: torch.Tensor, batch_size: int
) -> dict[str, float]:
    """Means over all of `data` of the per-example values that fn(batch) returns as (B,) tensors."""
    sums: dict[str, torch.Tensor] = {}
    for x in data.split(batch_size):
        for name, values in fn(x).items():
            total = values.sum()
            sums[name] = sums[name] + total if name in sums else total
    return {name: (total / data.shape[0]).item() for name, total in sums.items()}
