"""The second stage of a VQ-VAE: fit a gated PixelCNN to the code maps of the training set (`vaekit train-prior`).

The trained model encodes the training and test sets once (in eval mode; with dynamic binarization, one fixed
draw), then the prior is fitted by the same `fit` as every model, with the `prior_nll` objective: its "module"
is the prior and its data are the code maps. It keeps the run's precision, data parallelism and exact resume
(`--resume`, from prior_training_state.safetensors), and its own learning rate and schedule (prior.lr,
prior.lr_schedule). The prior is written atomically after every epoch, with the sha256 of the model.safetensors
whose codes it learned, so that a prior left behind by a retrained model is refused on load.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from vaekit.atomic import atomic_write_text
from vaekit.config import Config, validate
from vaekit.errors import RunError
from vaekit.models import VQVAE, build_code_prior, require
from vaekit.objectives import PriorNll
from vaekit.run import CONFIG, PRIOR, PRIOR_METRICS, PRIOR_STATE, WEIGHTS, Run, file_digest, load_run, read_config
from vaekit.train.distributed import barrier, local_batch_size, seeded_generator, setup, wrap
from vaekit.train.loop import LossModule, evaluate_batches
from vaekit.workflow.data import load_run_data
from vaekit.workflow.fit import Log, Stage, StageFiles, adam, fit, resume_state, writing

PRIOR_FILES = StageFiles(PRIOR, PRIOR_STATE, PRIOR_METRICS)


@torch.no_grad()
def encode_codes(model: VQVAE, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Code maps of x (N, C, H, W) with the model in eval mode: (N, h, w) int64."""
    model.eval()
    return torch.cat([model.encode_codes(b) for b in x.split(batch_size)])


def _prior_line(train: dict[str, float], test: dict[str, float]) -> str:
    return f"train NLL {train['nll']:.2f}  test NLL {test['nll']:.2f} nats per code map"


def prior_stage(run: Run, config: Config) -> Stage:
    """The code prior of `run` as a Stage: the run's codes, a fresh seeded PixelCNN, its optimizer."""
    ctx, dev = setup(str(run.device))
    seed, cfg = config.train.seed, config.prior
    data = load_run_data(config, dev)
    g = seeded_generator(dev, seed, 0, 3)  # one fixed draw: the prior learns the codes of binary images
    train_x, test_x = data.split("train")[0], data.split("test")[0]  # (N, C, H, W), (M, C, H, W) float32
    train_codes = encode_codes(run.model, data.binarization.draw(train_x, g), config.eval.batch_size)  # (N, h, w)
    test_codes = encode_codes(run.model, data.binarization.draw(test_x, g), config.eval.batch_size)  # (M, h, w)
    prior = build_code_prior(cfg, run.model.num_codes, seed=seed).to(dev)
    loss_module = wrap(LossModule(prior, PriorNll()), ctx, dev)

    @torch.no_grad()
    def test_nll() -> dict[str, float]:
        return evaluate_batches(lambda c: {"nll": -prior.log_prob(c)}, test_codes, config.eval.batch_size, ctx)

    return Stage(
        name="prior epoch",
        module=prior,
        loss_module=loss_module,
        optimizer=adam(prior.parameters(), config, cfg.lr),
        train_x=train_codes,
        evaluate=test_nll,
        epoch_line=_prior_line,
        files=PRIOR_FILES,
        metadata={
            "code_shape": json.dumps(list(run.model.code_shape)),
            "model_sha256": file_digest(run.path / WEIGHTS),
        },
        epochs=cfg.epochs,
        batch_size=local_batch_size(cfg.batch_size, ctx),
        lr=cfg.lr,
        lr_schedule=cfg.lr_schedule,
        seed=seed,
        streams=(4, 5),
        ctx=ctx,
        device=dev,
        precision=config.train.precision,
        progress=config.train.progress,
    )


def train_prior(
    path: str | Path,
    epochs: int | None = None,
    *,
    device: str | None = None,
    force: bool = False,
    resume: bool = False,
    log: Log | None = None,
) -> Run:
    """Fit the prior of the VQ-VAE run in `path` (prior.epochs epochs, or `epochs`) and return the run loaded.

    Refuses to replace an existing prior.safetensors unless `force`; with `resume`, continues the prior's
    training from its last completed epoch instead. `epochs`, when given, is recorded in the run's config.yaml
    as prior.epochs.
    """
    path = Path(path)
    config = read_config(path)
    run = load_run(path, device=device or config.train.device, prior=False)
    require(run.capabilities, "codes", "train-prior (a prior over code maps)", config.model.type)
    if resume and force:
        raise RunError(
            "--resume (resume=True in Python) continues the prior's training and --force (force=True) starts it "
            "again; give one of them."
        )
    if resume and not (path / PRIOR_STATE).exists():
        raise RunError(f"'{path}' has no prior training to resume ({PRIOR_STATE}). Run vaekit train-prior {path}.")
    if not resume and (path / PRIOR).exists() and not force:
        raise RunError(
            f"'{path}' already has a trained prior ({PRIOR}). Pass --force (force=True in Python) to train it again, "
            "or --resume (resume=True) to continue its training."
        )
    if epochs is not None:
        config.prior.epochs = epochs
        validate(config)
    stage = prior_stage(run, config)
    with writing(path, stage.ctx):
        start_epoch, step = (0, 0)
        if resume:
            start_epoch, step = resume_state(stage, path)
        if stage.ctx.is_main:
            if epochs is not None:
                atomic_write_text(path / CONFIG, config.to_yaml())
            if not resume:
                for name in (PRIOR_METRICS, PRIOR_STATE):
                    (path / name).unlink(missing_ok=True)
        barrier(stage.ctx)
        fit(stage, path, start_epoch, step, log=log)
    if log and stage.ctx.is_main:
        log(f"wrote {path / PRIOR}")
    return load_run(path, device=str(stage.device))
