"""One fit for everything that trains: a run's model, and a VQ-VAE's code prior.

A `Stage` names what trains (the module that is saved, the loss module that steps, the optimizer), its data, how
it is tested each epoch, and the files it owns in the run directory. `fit` runs its epochs with the learning-rate
schedule, precision and data parallelism of the run, writes after every epoch the metrics line, then the weights,
then the training state (so a crash between them leaves a state one epoch behind, which resumes correctly), and
`resume_state` continues it exactly: each epoch's random streams follow from (seed, epoch, rank, purpose), so no
RNG state is stored. Nothing is written before the first epoch ends, so a stage killed in its first epoch leaves
no untrained weights behind, and resuming it starts it again. `writing(out, ctx)` holds the run directory's lock
while a stage writes into it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import torch
from torch import nn

from vaekit.atomic import atomic_write_text, remove_stale_temp_files
from vaekit.config import Config
from vaekit.data.stream import DiskImages
from vaekit.errors import RunError
from vaekit.lock import RunLock
from vaekit.train.checkpoint import load_tree, save_tree, save_weights
from vaekit.train.distributed import DistContext, autocast_dtype, barrier, seeded_generator
from vaekit.train.loop import (
    Batcher,
    Cond,
    EpochResult,
    InnerSteps,
    Transform,
    append_epoch_record,
    read_epoch_records,
    train_epoch,
)
from vaekit.train.schedules import lr_at_epoch

Log = Callable[[str], None]


class EpochHooks(Protocol):
    """What a stage's training procedure adds around its epochs, without the epochs knowing what it is.

    `start_epoch(epoch)` runs before the epoch (1-based) trains and may change the module and optimizer (re-
    initialize a part); it returns the epoch's alternating inner updates, or None. `end_epoch(epoch, test)` sees the
    epoch's test metrics. `state()` (JSON values) is saved with the training state after every epoch and given back
    to `load_state` on resume: with it, start_epoch must do what an uninterrupted run would, so resume stays exact.
    """

    def start_epoch(self, epoch: int) -> InnerSteps | None: ...

    def end_epoch(self, epoch: int, test: dict[str, float]) -> None: ...

    def state(self) -> dict: ...

    def load_state(self, state: dict) -> None: ...


@dataclass(frozen=True)
class StageFiles:
    """The files a stage owns in the run directory."""

    weights: str
    state: str
    metrics: str


@dataclass
class Stage:
    name: str  # "epoch" or "prior epoch": how log lines and progress bars start
    module: nn.Module  # what is saved (never the DDP wrapper)
    loss_module: nn.Module  # module + objective: forward(x, step, generator, cond) -> LossOutput
    optimizer: torch.optim.Optimizer
    train_x: torch.Tensor | DiskImages  # (N, ...) on the device, or on disk (data.stream)
    evaluate: Callable[[], dict[str, float]]  # test metrics after each epoch, means over the test split
    epoch_line: Callable[[dict[str, float], dict[str, float]], str]  # (train, test metrics) -> words for the log
    files: StageFiles
    metadata: dict[str, str]  # stored with the weights
    epochs: int
    batch_size: int  # this process's share
    lr: float
    lr_schedule: str
    seed: int
    streams: tuple[int, int]  # the purposes of the shuffling and of the noise generators
    ctx: DistContext
    device: torch.device
    precision: str = "fp32"
    progress: bool = True
    transform: Transform | None = None
    train_cond: Cond = field(default_factory=dict)
    hooks: EpochHooks | None = None  # a training procedure around the epochs (vaekit.workflow.remedies)
    batcher: Batcher | None = None  # how the shuffled examples become batches (None: consecutive, as stored)


def adam(params, config: Config, lr: float) -> torch.optim.Optimizer:
    """Adam with the run's betas and eps; fused: one kernel for all parameters, ~25% faster per step on CPU."""
    return torch.optim.Adam(params, lr=lr, betas=tuple(config.train.adam_betas), eps=config.train.adam_eps, fused=True)


def fit(stage: Stage, out: Path, start_epoch: int = 0, step: int = 0, log: Log | None = None) -> None:
    """Train `stage` from `start_epoch` (with `step` steps done) to stage.epochs, writing its files into `out`."""
    main = stage.ctx.is_main
    log = log if main else None
    autocast = autocast_dtype(stage.precision, stage.device)
    shuffle_purpose, noise_purpose = stage.streams
    for epoch in range(start_epoch + 1, stage.epochs + 1):
        inner = stage.hooks.start_epoch(epoch) if stage.hooks is not None else None
        for group in stage.optimizer.param_groups:
            group["lr"] = lr_at_epoch(stage.lr_schedule, stage.lr, epoch - 1)
        result: EpochResult = train_epoch(
            stage.loss_module,
            stage.optimizer,
            stage.train_x,
            batch_size=stage.batch_size,
            step=step,
            # each epoch's streams follow from (seed, epoch): shuffling is shared, noise is per process
            shuffle_generator=seeded_generator(stage.device, stage.seed, epoch, shuffle_purpose),
            generator=seeded_generator(stage.device, stage.seed + stage.ctx.rank, epoch, noise_purpose),
            transform=stage.transform,
            progress=stage.progress and main,
            description=f"{stage.name} {epoch}/{stage.epochs}",
            ctx=stage.ctx,
            autocast_dtype=autocast,
            cond=stage.train_cond,
            inner=inner,
            batcher=stage.batcher,
        )
        step = result.steps
        start = time.perf_counter()
        stage.module.eval()
        test = stage.evaluate()
        test_seconds = time.perf_counter() - start
        if stage.hooks is not None:
            stage.hooks.end_epoch(epoch, test)
        if main:
            append_epoch_record(out / stage.files.metrics, epoch, result, test, test_seconds)
            save_weights(out / stage.files.weights, stage.module, stage.metadata)
            save_state(stage, out, epoch, step)
        if log:
            words = stage.epoch_line(result.metrics, test)
            log(f"{stage.name} {epoch}/{stage.epochs}  {words}  ({result.seconds:.1f} s + {test_seconds:.1f} s)")
    barrier(stage.ctx)  # the files are complete before any process reads them


def save_state(stage: Stage, out: Path, epoch: int, step: int) -> None:
    """Everything a resume needs to continue exactly: weights, optimizer state, counters (no RNG state)."""
    state = {
        "model": stage.module.state_dict(),
        "optimizer": stage.optimizer.state_dict(),
        "epoch": epoch,
        "step": step,
    }
    if stage.hooks is not None:
        state["hooks"] = stage.hooks.state()
    save_tree(out / stage.files.state, state)


STATE_KEYS = ("model", "optimizer", "epoch", "step")


def check_epochs_left(out: Path, done: int, epochs: int) -> None:
    """Refuse to continue a run that has already trained `done` >= `epochs` epochs."""
    if epochs <= done:
        raise RunError(
            f"the run in '{out}' has already trained {done} epochs; to continue it, give a larger number of "
            f"epochs in all (e.g. --epochs {done + 10}). Nothing was changed."
        )


def resume_state(stage: Stage, out: Path) -> tuple[int, int]:
    """Load the stage's training state into its module and optimizer; drop metrics lines past it.

    Everything is checked before anything is changed: the state's keys, counters and tensors must fit this
    stage (RunError otherwise), and stage.epochs must go past the epochs already done. A stage that never
    finished an epoch (no state, no metrics, no weights) starts again from epoch 0. Returns (epoch, step) for
    `fit`.
    """
    files = stage.files
    state_file = out / files.state
    if not state_file.exists():
        if any((out / name).exists() for name in (files.metrics, files.weights)):
            raise RunError(
                f"'{state_file}' is missing, but the run has finished epochs: it cannot continue exactly. "
                "Train it again with --force."
            )
        return 0, 0
    state = load_tree(state_file)
    if not isinstance(state, dict) or any(key not in state for key in STATE_KEYS):
        raise RunError(
            f"'{state_file}' lacks some of {', '.join(STATE_KEYS)}: it is not a training state of this version "
            "of vaekit. Train the run again with --force."
        )
    epoch, step = state["epoch"], state["step"]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (epoch, step)):
        raise RunError(f"'{state_file}' holds invalid counters (epoch {epoch!r}, step {step!r}). Train it again.")
    check_epochs_left(out, epoch, stage.epochs)
    hooks_state = state.get("hooks", {})
    if stage.hooks is not None and not isinstance(hooks_state, dict):
        raise RunError(f"'{state_file}' holds an invalid training-procedure state ({hooks_state!r}). Train it again.")
    try:
        stage.module.load_state_dict(state["model"])
        stage.optimizer.load_state_dict(state["optimizer"])
        if stage.hooks is not None:
            stage.hooks.load_state(hooks_state)
    except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as exc:
        first = " ".join(line.strip() for line in str(exc).splitlines())[:300]
        raise RunError(
            f"'{state_file}' does not fit the model of '{out / 'config.yaml'}' ({first}): the config or the state "
            "comes from another run. Restore the run's own files, or train it again with --force."
        ) from None
    barrier(stage.ctx)
    if stage.ctx.is_main:
        truncate_metrics(out / files.metrics, epoch)
    return epoch, step


def truncate_metrics(file: Path, epochs: int) -> None:
    """Keep the metrics lines of the first `epochs` epochs (a crash can leave one of an unfinished epoch, or a
    torn last line)."""
    if file.exists():
        lines = [json.dumps(r) for r in read_epoch_records(file) if r["epoch"] <= epochs]
        atomic_write_text(file, "".join(ln + "\n" for ln in lines))


@contextmanager
def writing(out: Path, ctx: DistContext) -> Iterator[None]:
    """Hold the run directory's lock (main process) and clear what an interrupted atomic write left in it."""
    if not ctx.is_main:
        yield
        return
    with RunLock(out):
        remove_stale_temp_files(out)
        yield
