"""One pass over in-memory training data. Knows nothing about VAEs: it calls a loss module and steps."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from vaekit.atomic import append_line
from vaekit.data.stream import DiskImages, take_rows
from vaekit.errors import RunError, VaekitError
from vaekit.train.checkpoint import all_finite
from vaekit.train.distributed import SINGLE_PROCESS, DistContext, all_reduce_sum, shard

Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
Cond = dict[str, torch.Tensor]  # tensors indexed like the data, passed on by name (a conditional model's labels)


class LossModule(nn.Module):
    """A model and its objective as one module: `forward(x, step, generator, cond) -> LossOutput`.

    Wrapping this (not the model) in DistributedDataParallel makes the whole loss computation DDP's forward,
    whatever methods of the model the objective calls.
    """

    def __init__(self, model: nn.Module, objective: Callable) -> None:
        super().__init__()
        self.model = model
        self.objective = objective

    def forward(self, x: torch.Tensor, step: int, generator: torch.Generator | None, cond: Cond | None = None):
        return self.objective(self.model, x, step=step, generator=generator, **(cond or {}))


# How an epoch's shuffled order (this process's shard) becomes batches: (data, order (n,), batch_size, shuffling
# generator) -> (index batches, the rows of each). A kind of data may group or trim its own (sequences: by length).
Batcher = Callable[..., tuple[list[torch.Tensor], Iterable[torch.Tensor]]]


def plain_batches(
    data: torch.Tensor | DiskImages, order: torch.Tensor, batch_size: int, generator: torch.Generator
) -> tuple[list[torch.Tensor], Iterable[torch.Tensor]]:
    """Consecutive batches of the shuffled order, rows as stored (from memory, or read from disk a batch ahead)."""
    index_batches = list(order.split(batch_size))
    return index_batches, take_rows(data, index_batches)


def batches(data: torch.Tensor, cond: Cond | None, batch_size: int):
    """(x, cond) batches of `batch_size` in order: x (b, ...) and each tensor of `cond` cut the same way."""
    cond = cond or {}
    for start in range(0, data.shape[0], batch_size):
        end = start + batch_size
        yield data[start:end], {k: v[start:end] for k, v in cond.items()}


class DivergedError(VaekitError):
    """Training produced a non-finite loss or non-finite weights; nothing of the epoch may be written."""


class DivergenceWatch:
    """The first step whose loss is not finite, tracked on the device (no host sync per step), checked now and then.

    `observe` after each step; `check` (a sync, and under torchrun one collective on every process at the same
    steps) raises DivergedError naming the first bad step when any process saw a non-finite loss, or when the
    weights are no longer finite (a finite loss can still come with an overflowing gradient).
    """

    def __init__(self, device: torch.device, step: int, ctx: DistContext) -> None:
        self.ctx = ctx
        self.counter = torch.full((), step, dtype=torch.int64, device=device)
        self.first_bad = torch.full((), -1, dtype=torch.int64, device=device)

    def observe(self, loss: torch.Tensor) -> None:
        self.counter += 1  # the 1-based number of the step that produced `loss`
        bad = ~torch.isfinite(loss.detach())
        self.first_bad = torch.where(bad & (self.first_bad < 0), self.counter, self.first_bad)

    def check(self, module: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        weights_bad = not all_finite(module)
        flags = torch.tensor([float(self.first_bad >= 0), float(weights_bad)], device=self.first_bad.device)
        flags = all_reduce_sum(flags, self.ctx)
        if not bool((flags > 0).any()):
            return
        first = int(self.first_bad)
        where = f"the loss was not finite at step {first}" if first >= 0 else "the weights became non-finite"
        if first < 0 and flags[0] > 0:
            where = "the loss was not finite on another process"
        lr = optimizer.param_groups[0]["lr"]
        raise DivergedError(
            f"training diverged: {where} (by step {int(self.counter)}). Nothing of this epoch was written: the run "
            f"keeps its last completed epoch. Lower the learning rate (it is {lr:g}), add a KL warm-up, or check "
            "the data (a gaussian likelihood with a tiny sigma, or unscaled inputs, can diverge)."
        )


@dataclass(frozen=True)
class InnerSteps:
    """Alternating updates within each step: first optimizer steps that move `params` alone, on the step's batch,
    then on fresh random batches of the training data, until the loss stops falling; then the step itself moves
    every other parameter. The loop knows nothing of what `params` are: the caller names them (He et al. 2019's
    aggressive inference-network updates, with the inference network's parameters).

    The loss is summed over `check_every` inner steps at a time, and the inner steps stop when a window's mean is
    above the one before, or after max_steps - 1 steps (He et al.'s rule: windows of 15, at most 100).
    """

    params: tuple[nn.Parameter, ...]
    max_steps: int = 100
    check_every: int = 15


@dataclass
class EpochResult:
    metrics: dict[str, float]  # means over the epoch's examples, across all processes
    steps: int
    seconds: float


def reduce_means(sums: dict[str, torch.Tensor], count: int, ctx: DistContext, device) -> dict[str, float | list[float]]:
    """Sum per-process totals across processes (one collective), then divide by the total count.

    A scalar total gives a float, a vector total (e.g. a KL per dimension) a list.
    """
    names = sorted(sums)
    flat = [sums[n].double().reshape(-1) for n in names]
    count_t = torch.tensor([float(count)], dtype=torch.float64, device=device)
    totals = all_reduce_sum(torch.cat([*flat, count_t]), ctx)
    means = (totals[:-1] / totals[-1]).split([f.numel() for f in flat])
    return {n: m.item() if sums[n].ndim == 0 else m.tolist() for n, m in zip(names, means, strict=True)}


def train_epoch(
    loss_module: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: torch.Tensor | DiskImages,
    *,
    batch_size: int,
    step: int,
    shuffle_generator: torch.Generator,
    generator: torch.Generator,
    transform: Transform | None = None,
    progress: bool = True,
    description: str = "train",
    ctx: DistContext = SINGLE_PROCESS,
    autocast_dtype: torch.dtype | None = None,
    cond: Cond | None = None,
    inner: InnerSteps | None = None,
    batcher: Batcher | None = None,
) -> EpochResult:
    """Shuffle `data` (N, ...), take this process's shard, and take one optimizer step per batch.

    `data` is a tensor on the device, or images on disk (`vaekit.data.stream.DiskImages`), read batch by batch: the
    same seed gives the same batches either way, and each process reads only the rows of its own shard.
    `cond` holds tensors (N, ...) that go with `data` example by example (labels), batched with it and passed to
    the loss module. `batch_size` is this process's batch. `step` is the global step count before this epoch
    (passed to the objective for schedules). Shuffling draws from `shuffle_generator`, identical on every process; the
    transform and the objective's samples draw from `generator`, this process's own. `batcher` makes the batches
    of the shuffled shard (default `plain_batches`; sequences bucket theirs by length, from `shuffle_generator`).
    `inner`: alternating updates (InnerSteps) before each step, their fresh batches drawn from `generator` too;
    the metric `inner_steps` is then their mean number per step.
    """
    loss_module.train()
    start = time.perf_counter()
    sums: dict[str, torch.Tensor] = {}
    count = 0
    device = data.device if isinstance(data, torch.Tensor) else next(loss_module.parameters()).device
    order = shard(torch.randperm(len(data), generator=shuffle_generator, device=device), ctx)
    autocast = torch.autocast(device_type=device.type, dtype=autocast_dtype) if autocast_dtype else nullcontext()
    index_batches, rows = (batcher or plain_batches)(data, order, batch_size, shuffle_generator)  # (B, ...) each
    bar = tqdm(
        zip(index_batches, rows, strict=True),
        total=len(index_batches),
        desc=description,
        leave=False,
        disable=None if progress else True,
    )
    watch = DivergenceWatch(device, step, ctx)
    for i, (idx, x) in enumerate(bar):
        c = {k: v.index_select(0, idx) for k, v in cond.items()} if cond else None
        if transform is not None:
            x = transform(x, generator)
        if inner is not None:
            fresh = _fresh_batches(data, cond, x.shape[0], transform, generator, device, batcher or plain_batches)
            taken = inner_updates(loss_module, optimizer, inner, (x, c), fresh, step, generator, ctx, autocast)
            taken_t = torch.tensor(float(taken * x.shape[0]), dtype=torch.float64, device=device)
            sums["inner_steps"] = sums["inner_steps"] + taken_t if "inner_steps" in sums else taken_t
        with autocast:
            out = loss_module(x, step, generator, c)
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        if inner is not None:
            for p in inner.params:
                p.grad = None  # the step moves the other parameters only (Adam skips a parameter without a gradient)
        optimizer.step()
        step += 1
        watch.observe(out.loss)
        n = x.shape[0]
        count += n
        for name, value in out.metrics.items():
            sums[name] = sums[name] + value.double() * n if name in sums else value.double() * n
        if i % 50 == 0:
            watch.check(loss_module, optimizer)
            bar.set_postfix(loss=f"{out.loss.item():.2f}", refresh=False)
    bar.close()
    watch.check(loss_module, optimizer)  # before anything of this epoch can be written
    metrics = reduce_means(sums, count, ctx, device)
    return EpochResult(metrics, step, time.perf_counter() - start)


def _fresh_batches(
    data, cond: Cond | None, batch_size: int, transform, generator: torch.Generator, device, batcher: Batcher
):
    """An endless supply of (x, cond) batches of `batch_size` random training examples (without replacement within
    a batch), drawn from `generator`, made by `batcher` and transformed as the epoch's batches are."""
    while True:
        order = torch.randperm(len(data), generator=generator, device=device)[:batch_size]
        index_batches, rows = batcher(data, order, batch_size, generator)  # one batch
        idx, x = index_batches[0], next(iter(rows))
        if transform is not None:
            x = transform(x, generator)
        yield x, ({k: v.index_select(0, idx) for k, v in cond.items()} if cond else None)


def inner_updates(
    loss_module: nn.Module,
    optimizer: torch.optim.Optimizer,
    inner: InnerSteps,
    first: tuple[torch.Tensor, Cond | None],
    fresh,
    step: int,
    generator: torch.Generator,
    ctx: DistContext = SINGLE_PROCESS,
    autocast=None,
) -> int:
    """The inner steps of InnerSteps before one step: `first` batch, then batches from `fresh`; returns their number.

    Only inner.params get gradients' updates (the others' gradients are dropped before each optimizer step). Under
    torchrun the windows' losses are summed across processes, so that every process stops at the same step.
    """
    owned = {id(p) for p in inner.params}
    others = [p for group in optimizer.param_groups for p in group["params"] if id(p) not in owned]
    total = torch.zeros(2, dtype=torch.float64, device=first[0].device)  # this window's loss sum and count
    previous = math.inf
    x, c = first
    taken = 0
    for k in range(1, inner.max_steps):
        with autocast or nullcontext():
            out = loss_module(x, step, generator, c)
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        for p in others:
            p.grad = None
        optimizer.step()
        taken = k
        total[0] += out.loss.detach().double() * x.shape[0]
        total[1] += x.shape[0]
        if k % inner.check_every == 0:
            window = all_reduce_sum(total, ctx)
            current = float(window[0] / window[1])
            if current > previous:
                break
            previous, total = current, torch.zeros_like(total)
        x, c = next(fresh)
    optimizer.zero_grad(set_to_none=True)
    return taken


@torch.no_grad()
def evaluate_batches(
    fn: Callable[[torch.Tensor], dict[str, torch.Tensor]],
    data: torch.Tensor,
    batch_size: int,
    ctx: DistContext = SINGLE_PROCESS,
    cond: Cond | None = None,
) -> dict[str, float]:
    """Means over all of `data` of the per-example values fn(batch, **cond_batch) returns: (B,) tensors give
    floats, (B, D) tensors lists of D floats (summed over the examples in float64).

    Under data parallelism each process evaluates its own slice and the sums are combined.
    """
    sums: dict[str, torch.Tensor] = {}
    part = data[ctx.rank :: ctx.world_size]
    part_cond = {k: v[ctx.rank :: ctx.world_size] for k, v in (cond or {}).items()}
    for x, c in batches(part, part_cond, batch_size):
        for name, values in fn(x, **c).items():
            total = values.double().sum(0)
            sums[name] = sums[name] + total if name in sums else total
    return reduce_means(sums, part.shape[0], ctx, data.device)


def append_epoch_record(file, epoch: int, result: EpochResult, test: dict[str, float], test_seconds: float) -> dict:
    """Append one epoch's line to a metrics .jsonl file: counters, train_* and test_* means, seconds."""
    record: dict = {"epoch": epoch, "step": result.steps}
    record.update({f"train_{k}": v for k, v in result.metrics.items()})
    record.update({f"test_{k}": v for k, v in test.items()})
    record.update({"train_seconds": round(result.seconds, 4), "test_seconds": round(test_seconds, 4)})
    append_line(file, json.dumps(record))
    return record


def read_epoch_records(file: Path) -> list[dict]:
    """The records of a metrics .jsonl file; a torn last line (a crash mid-append) is skipped.

    A line that does not parse anywhere else, or a record without its epoch, raises RunError.
    """
    if not file.exists():
        return []
    try:
        lines = [ln for ln in file.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"cannot read '{file}' ({exc}). The run directory is damaged: train it again.") from None
    records = []
    for i, line in enumerate(lines):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break  # torn by a crash; `vaekit train --resume` rewrites the file without it
            raise RunError(f"line {i + 1} of '{file}' is not JSON. The run directory is damaged.") from None
        if not isinstance(record, dict) or not isinstance(record.get("epoch"), int):
            raise RunError(f"line {i + 1} of '{file}' is not an epoch record. The run directory is damaged.")
        records.append(record)
    return records
