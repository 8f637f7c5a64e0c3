"""Wire a run: config -> data -> model, objective, optimizer -> epochs -> run directory.

Everything that can fail on bad input (config, data, output folder) is checked before anything is written.
A run resumed from its training state continues exactly: on CPU its final weights equal an uninterrupted
run's, because the model and optimizer are restored and each epoch's random streams follow from the seed.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from vaekit.atomic import atomic_write_text
from vaekit.config import Config
from vaekit.data import ImageData, binarize, load_data
from vaekit.errors import RunError
from vaekit.evaluate.by_model import evaluation_for
from vaekit.models import build_model
from vaekit.objectives import build_objective
from vaekit.plotting import auto_scale, image_grid, save_png
from vaekit.run import CONFIG, METRICS, PRIOR, SAMPLES, STATE, WEIGHTS, Run, load_run, read_config
from vaekit.train.checkpoint import load_tree, save_tree, save_weights
from vaekit.train.distributed import (
    DistContext,
    autocast_dtype,
    barrier,
    local_batch_size,
    seeded_generator,
    setup,
    wrap,
)
from vaekit.train.loop import LossModule, append_epoch_record, evaluate_batches, train_epoch
from vaekit.train.schedules import lr_at_epoch

Log = Callable[[str], None]


@dataclass
class Prepared:
    """The pieces of a run, built and checked before anything is written."""

    config: Config
    ctx: DistContext
    device: torch.device
    train_x: torch.Tensor  # (N, C, H, W) on device
    test_x: torch.Tensor  # (M, C, H, W) on device
    shape: tuple[int, int, int]
    model: torch.nn.Module  # the model itself: what is saved
    loss_module: torch.nn.Module  # model + objective, wrapped for data parallelism / compiled when asked
    optimizer: torch.optim.Optimizer
    batch_size: int  # this process's share of train.batch_size


def prepare_data(config: Config, device: torch.device) -> tuple[ImageData, torch.Tensor, torch.Tensor]:
    """Load the data and apply static binarization (a fixed draw); dynamic binarization happens per batch."""
    data = load_data(
        config.data.source,
        data_dir=config.data.data_dir,
        test_fraction=config.data.test_fraction,
        split_seed=config.data.split_seed,
        download=config.data.download,
    )
    train_x, test_x = data.train, data.test
    if config.data.binarize == "static":
        g = torch.Generator().manual_seed(config.train.seed)
        train_x, test_x = binarize(train_x, g), binarize(test_x, g)
    return data, train_x.to(device), test_x.to(device)


def prepare(config: Config) -> Prepared:
    ctx, device = setup(config.train.device)
    batch_size = local_batch_size(config.train.batch_size, ctx)
    data, train_x, test_x = prepare_data(config, device)
    model = build_model(config.model, data.shape, seed=config.train.seed).to(device)
    steps_per_epoch = math.ceil(train_x.shape[0] / config.train.batch_size)
    objective = build_objective(config.objective, steps_per_epoch)
    lr_at_epoch(config.train.lr_schedule, config.train.lr, 0)  # an unknown schedule fails before any writing
    optimizer = torch.optim.Adam(
        model.parameters(),
        lr=config.train.lr,
        betas=tuple(config.train.adam_betas),
        eps=config.train.adam_eps,
        fused=True,  # one kernel for all parameters: about 25% faster per step on CPU than the default
    )
    loss_module = wrap(LossModule(model, objective), ctx, device)
    if config.train.compile:
        loss_module = torch.compile(loss_module)
    return Prepared(config, ctx, device, train_x, test_x, data.shape, model, loss_module, optimizer, batch_size)


def check_out_dir(out: Path, force: bool) -> None:
    """Refuse to overwrite an existing run unless forced, and never delete a folder that is not a run."""
    if not out.exists():
        return
    if not out.is_dir():
        raise RunError(f"--out '{out}' exists and is a file. Choose a folder path for the run.")
    if not any(out.iterdir()):
        return
    if not (out / CONFIG).exists():
        raise RunError(
            f"--out '{out}' is a non-empty folder that is not a vaekit run; refusing to write into it. "
            "Choose a new or empty folder."
        )
    if not force:
        raise RunError(
            f"run directory '{out}' already exists. Pass --force to overwrite it, --resume to continue it, "
            "or choose another --out."
        )


def default_out(config: Config) -> Path:
    name = Path(config.data.source).stem or "run"
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def train(config: Config, out: str | Path | None = None, *, force: bool = False, log: Log | None = None) -> Run:
    """Train a new run into `out` and return it loaded. Nothing is written if the input is bad.

    Under torchrun every process calls this; only the main process writes.
    """
    out = Path(out) if out is not None else default_out(config)
    prepared = prepare(config)
    check_out_dir(out, force)
    barrier(prepared.ctx)  # every process has checked `out` before the main one changes it
    if prepared.ctx.is_main:
        if out.exists() and force:
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / CONFIG, config.to_yaml())
    return _fit(prepared, out, start_epoch=0, step=0, log=log)


def resume(path: str | Path, epochs: int | None = None, *, device: str | None = None, log: Log | None = None) -> Run:
    """Continue a run from its last completed epoch (to `epochs` in all, if given; on `device`, if given).

    The number of processes may differ from the interrupted run's: the state holds no per-process RNG.
    """
    path = Path(path)
    config = read_config(path)
    if (path / PRIOR).exists():
        raise RunError(
            f"'{path}' has a prior fitted to its codes ({PRIOR}); training the model further would leave it behind. "
            f"Move {PRIOR} away first, then fit it again after training: vaekit train-prior {path} --force"
        )
    if epochs is not None:
        config.train.epochs = epochs
    if device is not None:
        config.train.device = device
    state = load_tree(path / STATE)
    prepared = prepare(config)
    prepared.model.load_state_dict(state["model"])
    prepared.optimizer.load_state_dict(state["optimizer"])
    barrier(prepared.ctx)
    if prepared.ctx.is_main:
        atomic_write_text(path / CONFIG, config.to_yaml())
        _truncate_metrics(path / METRICS, state["epoch"])
    return _fit(prepared, path, start_epoch=state["epoch"], step=state["step"], log=log)


def _truncate_metrics(file: Path, epochs: int) -> None:
    if file.exists():
        lines = [ln for ln in file.read_text().splitlines() if ln.strip() and json.loads(ln)["epoch"] <= epochs]
        atomic_write_text(file, "".join(ln + "\n" for ln in lines))


def _fit(p: Prepared, out: Path, start_epoch: int, step: int, log: Log | None) -> Run:
    cfg, ctx = p.config, p.ctx
    main = ctx.is_main
    log = log if main else None
    transform = binarize if cfg.data.binarize == "dynamic" else None
    autocast = autocast_dtype(cfg.train.precision, p.device)
    metadata = {"data_shape": json.dumps(list(p.shape))}
    if start_epoch == 0 and main:
        save_weights(out / WEIGHTS, p.model, metadata)
    for epoch in range(start_epoch + 1, cfg.train.epochs + 1):
        for group in p.optimizer.param_groups:
            group["lr"] = lr_at_epoch(cfg.train.lr_schedule, cfg.train.lr, epoch - 1)
        result = train_epoch(
            p.loss_module,
            p.optimizer,
            p.train_x,
            batch_size=p.batch_size,
            step=step,
            # each epoch's streams follow from (seed, epoch): shuffling is shared, noise is per process
            shuffle_generator=seeded_generator(p.device, cfg.train.seed, epoch, 0),
            generator=seeded_generator(p.device, cfg.train.seed + ctx.rank, epoch, 1),
            transform=transform,
            progress=cfg.train.progress and main,
            description=f"epoch {epoch}/{cfg.train.epochs}",
            ctx=ctx,
            autocast_dtype=autocast,
        )
        step = result.steps
        start = time.perf_counter()
        test = evaluate_test(p)
        test_seconds = time.perf_counter() - start
        if main:
            append_epoch_record(out / METRICS, epoch, result, test, test_seconds)
            # weights first, then the state: a crash in between leaves a state that is one epoch behind,
            # which resumes correctly; the reverse order could not.
            save_weights(out / WEIGHTS, p.model, metadata)
            _save_state(p, out, epoch, step)
        if log:
            words = evaluation_for(cfg.model.type).epoch_line(result.metrics, test)
            log(f"epoch {epoch}/{cfg.train.epochs}  {words}  ({result.seconds:.1f} s + {test_seconds:.1f} s)")
    if main and not (out / STATE).exists():  # zero epochs: still a complete, resumable run
        _save_state(p, out, epoch=0, step=0)
    barrier(ctx)  # the files are complete before any process reads them
    run = load_run(out, device=str(p.device))
    if main:
        write_samples(run, out / SAMPLES, cfg.train.num_sample_images, seed=cfg.train.seed)
    if log:
        log(f"wrote {out}  (samples: {out / SAMPLES})")
        if run.prior_note():
            log(f"note: {run.prior_note()}")
    barrier(ctx)
    return run


def _save_state(p: Prepared, out: Path, epoch: int, step: int) -> None:
    """Everything --resume needs to continue exactly: weights, optimizer state, counters.

    No RNG state: each epoch's generators are derived from (seed, epoch, rank).
    """
    state = {
        "model": p.model.state_dict(),
        "optimizer": p.optimizer.state_dict(),
        "epoch": epoch,
        "step": step,
    }
    save_tree(out / STATE, state)


@torch.no_grad()
def evaluate_test(p: Prepared) -> dict[str, float]:
    """Test-set metrics of the model type (a VAE: ELBO terms, beta = 1), with a fixed generator across epochs."""
    p.model.eval()
    g = seeded_generator(p.device, p.config.train.seed + p.ctx.rank, 0, 2)
    dynamic = p.config.data.binarize == "dynamic"
    per_example = evaluation_for(p.config.model.type).test_metrics

    def fn(x: torch.Tensor) -> dict[str, torch.Tensor]:
        return per_example(p.model, binarize(x, g) if dynamic else x, g)

    return evaluate_batches(fn, p.test_x, p.config.eval.batch_size, p.ctx)


def write_samples(run: Run, path: Path, num: int, seed: int) -> None:
    g = torch.Generator(device=run.device).manual_seed(seed)
    images = run.sample(num, generator=g)
    save_png(image_grid(images, scale=auto_scale(images.shape[-2])), path)
