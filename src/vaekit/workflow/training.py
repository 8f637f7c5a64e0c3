"""Wire a run: config -> data -> model, objective, optimizer -> epochs (workflow.fit) -> run directory.

Everything that can fail on bad input (config, data, output folder) is checked before anything is written.
A run resumed from its training state continues exactly: on CPU its final weights equal an uninterrupted
run's, because the model and optimizer are restored and each epoch's random streams follow from the seed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from vaekit.atomic import atomic_write_text
from vaekit.config import Config, validate
from vaekit.errors import ConfigError, RunError
from vaekit.evaluate.by_model import evaluation_for
from vaekit.evaluate.diagnostics import collapse_warning, latent_diagnostics, mean_kl_per_dim
from vaekit.lock import LOCK_FILE, check_unlocked
from vaekit.models import build_model, capabilities, parameter_count
from vaekit.objectives import build_objective
from vaekit.run import CONFIG, METRICS, PRIOR, SPEC, STATE, WEIGHTS, Run, load_run, read_config, read_spec
from vaekit.spec import DataSpec
from vaekit.train.checkpoint import load_tree_values
from vaekit.train.compile import compiled
from vaekit.train.distributed import DistContext, barrier, local_batch_size, seeded_generator, setup, wrap
from vaekit.train.loop import LossModule, evaluate_batches
from vaekit.train.schedules import lr_at_epoch
from vaekit.views import view_of
from vaekit.workflow.data import RunData, load_run_data
from vaekit.workflow.fit import Log, Stage, StageFiles, adam, check_epochs_left, fit, resume_state, writing
from vaekit.workflow.remedies import check_remedies, remedies_for

MODEL_FILES = StageFiles(WEIGHTS, STATE, METRICS)


@dataclass
class Prepared:
    """The pieces of a run, built and checked before anything is written."""

    config: Config
    ctx: DistContext
    device: torch.device
    data: RunData
    stage: Stage

    @property
    def model(self) -> torch.nn.Module:
        return self.stage.module


def prepare(config: Config, log: Log | None = None, spec: DataSpec | None = None) -> Prepared:
    """Everything a run needs to train; `spec`: a resumed run's, so its data are read as they were."""
    check_remedies(config, capabilities(config.model))
    ctx, device = setup(config.train.device)
    batch_size = local_batch_size(config.train.batch_size, ctx)
    data = load_run_data(config, device, spec)  # sets model.num_classes of a conditional model from the labels
    check_model_fits(config, data.spec)
    model = build_model(config.model, data.spec, seed=config.train.seed).to(device)
    steps_per_epoch = math.ceil(data.train_x.shape[0] / config.train.batch_size)
    model_capabilities = capabilities(config.model)
    objective = build_objective(config.objective, steps_per_epoch, capabilities=model_capabilities)
    lr_at_epoch(config.train.lr_schedule, config.train.lr, 0)  # an unknown schedule fails before any writing
    optimizer = adam(model.parameters(), config, config.train.lr)
    loss_module = wrap(LossModule(model, objective), ctx, device)
    if config.train.compile:

        def eager_note(why: str) -> None:
            if log and ctx.is_main:
                log(f"note: train.compile is on but torch.compile cannot run here ({why}); training eagerly.")

        loss_module = compiled(loss_module, eager_note)
    evaluation = evaluation_for(config.model.type)
    per_example = evaluation.test_metrics

    @torch.no_grad()
    def test_metrics() -> dict[str, float]:
        """Test-set metrics of the model type (a VAE: ELBO terms, beta = 1) and, where the model allows, the collapse
        diagnostics I(x; z) ("mi") and active units (vaekit.evaluate.diagnostics.latent_diagnostics); one fixed
        generator across epochs."""
        g = seeded_generator(device, config.train.seed + ctx.rank, 0, 2)

        def fn(x: torch.Tensor, **cond) -> dict[str, torch.Tensor]:
            return per_example(model, data.binarization.draw(x, g), g, **cond)

        metrics = evaluate_batches(fn, data.test_x, config.eval.batch_size, ctx, data.test_cond)
        diagnostics = latent_diagnostics(
            model,
            data.test_x,
            model_capabilities,
            generator=g,
            transform=data.binarization.draw,
            cond=data.test_cond,
            ctx=ctx,
        )
        diagnostics.pop("posterior_mean_variance", None)  # D numbers an epoch: the report has them
        diagnostics.pop("mi_batch_size", None)
        return {**metrics, **diagnostics}

    stage = Stage(
        name="epoch",
        module=model,
        loss_module=loss_module,
        optimizer=optimizer,
        train_x=data.train_x,
        train_cond=data.train_cond,
        evaluate=test_metrics,
        epoch_line=evaluation.epoch_line,
        files=MODEL_FILES,
        metadata={"data_shape": json.dumps(list(data.data.shape))},
        epochs=config.train.epochs,
        batch_size=batch_size,
        lr=config.train.lr,
        lr_schedule=config.train.lr_schedule,
        seed=config.train.seed,
        streams=(0, 1),
        ctx=ctx,
        device=device,
        precision=config.train.precision,
        progress=config.train.progress,
        transform=data.binarization.per_batch,
        hooks=remedies_for(model, optimizer, config, log if ctx.is_main else None),
        batcher=data.batcher,
    )
    return Prepared(config, ctx, device, data, stage)


def announce_data(p: Prepared, log: Log | None) -> None:
    """The load summary and the data's warnings, from the main process."""
    if log is None or not p.ctx.is_main:
        return
    view = view_of(p.data.spec)
    for line in view.summary_lines(p.data.data):
        log(line)
    network = getattr(p.config.model, "network", None)  # a VQ-VAE has its own conv networks, and no such key
    mlp = network is not None and network.type == "mlp"
    for warning in view.data_warnings(p.data.data, p.config.train.batch_size, mlp=mlp):
        log(f"warning: {warning}")


def check_model_fits(config: Config, spec: DataSpec) -> None:
    """Refuse, before allocating anything, a model whose training needs more memory than the machine has."""
    count = parameter_count(config.model, spec)
    need = count * 4 * 4  # float32 weights, gradients and Adam's two moments
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else None
    if memory and need > memory:
        raise ConfigError(
            f"the model has {count:,} parameters: training it needs at least {need / 2**30:.1f} GiB, more than this "
            f"machine's {memory / 2**30:.1f} GiB. Use smaller model.latent_dim, model.network.hidden or channels."
        )


def check_out_dir(out: Path, force: bool) -> None:
    """Refuse to overwrite an existing run unless forced, and never delete a folder that is not a run."""
    parent = next((p for p in [out, *out.parents] if p.exists()), None)
    if parent is not None and parent != out and not parent.is_dir():
        raise RunError(f"--out '{out}' lies under '{parent}', which is a file. Choose a folder path for the run.")
    if not out.exists():
        return
    if not out.is_dir():
        raise RunError(f"--out '{out}' exists and is a file. Choose a folder path for the run.")
    entries = [p for p in out.iterdir() if p.name != LOCK_FILE]
    if not entries:
        return
    if not (out / CONFIG).exists():
        raise RunError(
            f"--out '{out}' is a non-empty folder that is not a vaekit run; refusing to write into it. "
            "Choose a new or empty folder."
        )
    if not force:
        raise RunError(
            f"run directory '{out}' already exists. Pass --force (force=True in Python) to overwrite it, --resume "
            "(vaekit.resume) to continue it, or choose another --out."
        )


def clear_run_dir(out: Path) -> None:
    """Delete a run directory's contents, keeping the lock file its writer holds."""
    for entry in out.iterdir():
        if entry.name == LOCK_FILE:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def default_out(config: Config) -> Path:
    name = Path(config.data.source).stem or "run"
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def train(config: Config, out: str | Path | None = None, *, force: bool = False, log: Log | None = None) -> Run:
    """Train a new run into `out` and return it loaded. Nothing is written if the input is bad.

    Under torchrun every process calls this; only the main process writes.
    """
    out = Path(out) if out is not None else default_out(config)
    # What can refuse the run cheaply goes before the data are read (a data set can take minutes to load).
    validate(config)
    check_out_dir(out, force)
    check_unlocked(out)
    prepared = prepare(config, log)
    announce_data(prepared, log)
    barrier(prepared.ctx)  # every process has checked `out` before the main one changes it
    if prepared.ctx.is_main:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise RunError(f"cannot create the run directory '{out}': {err.strerror or err}.") from None
    with writing(out, prepared.ctx):
        if prepared.ctx.is_main:
            check_out_dir(out, force)  # again under the lock: another process may have written a run meanwhile
            if force:
                clear_run_dir(out)
            atomic_write_text(out / CONFIG, config.to_yaml())
            atomic_write_text(out / SPEC, prepared.data.spec.to_json())
        fit(prepared.stage, out, log=log)
        return _finish(prepared, out, log)


def resume(path: str | Path, epochs: int | None = None, *, device: str | None = None, log: Log | None = None) -> Run:
    """Continue a run from its last completed epoch (to `epochs` in all, if given; on `device`, if given).

    The number of processes may differ from the interrupted run's: the state holds no per-process RNG. Every
    check (the config, the number of epochs, the training state) passes before anything is written.
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
    validate(config)
    check_unlocked(path)  # the cheap refusals before the data are read; resume_state checks the whole state later
    if (path / STATE).exists():
        values = load_tree_values(path / STATE)
        done = values.get("epoch") if isinstance(values, dict) else None
        if isinstance(done, int) and not isinstance(done, bool):
            check_epochs_left(path, done, config.train.epochs)
    prepared = prepare(config, log, read_spec(path))
    announce_data(prepared, log)
    with writing(path, prepared.ctx):
        start_epoch, step = resume_state(prepared.stage, path)
        if prepared.ctx.is_main:
            atomic_write_text(path / CONFIG, config.to_yaml())
        fit(prepared.stage, path, start_epoch, step, log=log)
        return _finish(prepared, path, log)


def _finish(p: Prepared, out: Path, log: Log | None) -> Run:
    """Load the trained run and write its sample grid (main process)."""
    run = load_run(out, device=str(p.device))
    if p.ctx.is_main:
        samples = write_samples(run, out, p.config.train.num_sample_images, seed=p.config.train.seed)
        if log:
            log(f"wrote {out}  (samples: {samples})")
            if run.prior_note():
                log(f"note: {run.prior_note()}")
            collapse = collapse_note(run, p.data)
            if collapse:
                log(f"warning: {collapse}")
    barrier(p.ctx)
    return run


def write_samples(run: Run, out: Path, num: int, seed: int) -> Path:
    """The run's sample file (a PNG grid of images, a CSV of rows), named and written by the data's view."""
    g = torch.Generator(device=run.device).manual_seed(seed)
    view = view_of(run.spec)
    path = out / view.samples_file
    view.write_examples(run.spec, run.sample(num, generator=g), path)
    return path


def collapse_note(run: Run, data: RunData) -> str | None:
    """Said at the end of training when every latent dimension collapsed (KL ~ 0 on the test split): what to try."""
    if "kl_per_dim" not in run.capabilities:
        return None
    x, cond = data.split("test")
    kl = mean_kl_per_dim(run.model, x[:2000], cond={k: v[:2000] for k, v in cond.items()})  # (D,)
    return collapse_warning(kl, run.spec.kind)
