"""The second stage of a VQ-VAE: fit a gated PixelCNN to the code maps of the training set (`vaekit train-prior`).

The trained model encodes the training and test sets once (in eval mode; with dynamic binarization, one fixed
draw), then the prior is trained by the generic loop with the `prior_nll` objective: its "model" is the prior and
its data are the code maps. The prior is written atomically after every epoch, with the sha256 of the
model.safetensors whose codes it learned, so that a prior left behind by a retrained model is refused on load.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import torch

from vaekit.atomic import atomic_write_text
from vaekit.data import binarize
from vaekit.errors import RunError
from vaekit.models import VQVAE, build_code_prior
from vaekit.objectives import PriorNll
from vaekit.run import CONFIG, PRIOR, PRIOR_METRICS, WEIGHTS, Run, file_digest, load_run, read_config
from vaekit.train.checkpoint import save_weights
from vaekit.train.distributed import seeded_generator
from vaekit.train.loop import LossModule, append_epoch_record, evaluate_batches, train_epoch
from vaekit.train.runner import prepare_data

Log = Callable[[str], None]


@torch.no_grad()
def encode_codes(model: VQVAE, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Code maps of x (N, C, H, W) with the model in eval mode: (N, h, w) int64."""
    model.eval()
    return torch.cat([model.encode(b) for b in x.split(batch_size)])


def train_prior(
    path: str | Path,
    epochs: int | None = None,
    *,
    device: str | None = None,
    force: bool = False,
    log: Log | None = None,
) -> Run:
    """Fit the prior of the VQ-VAE run in `path` (prior.epochs epochs, or `epochs`) and return the run loaded.

    Refuses to replace an existing prior.safetensors unless `force`. `epochs`, when given, is recorded in the
    run's config.yaml as prior.epochs.
    """
    path = Path(path)
    config = read_config(path)
    run = load_run(path, device=device or config.train.device, prior=False)
    if not isinstance(run.model, VQVAE):
        raise RunError(
            f"'{path}' is a model.type={config.model.type} run; train-prior fits the prior over the codes of a "
            "VQ-VAE (model.type=vqvae)."
        )
    if (path / PRIOR).exists() and not force:
        raise RunError(f"'{path}' already has a trained prior ({PRIOR}). Pass --force to train it again.")
    if epochs is not None:
        config.prior.epochs = epochs
        atomic_write_text(path / CONFIG, config.to_yaml())
    (path / PRIOR_METRICS).unlink(missing_ok=True)

    dev, seed, cfg = run.device, config.train.seed, config.prior
    _, train_x, test_x = prepare_data(config, dev)
    if config.data.binarize == "dynamic":  # one fixed draw: the prior learns the codes of binary images
        g = seeded_generator(dev, seed, 0, 3)
        train_x, test_x = binarize(train_x, g), binarize(test_x, g)
    train_codes = encode_codes(run.model, train_x, config.eval.batch_size)  # (N, h, w)
    test_codes = encode_codes(run.model, test_x, config.eval.batch_size)  # (M, h, w)

    prior = build_code_prior(cfg, run.model.num_codes, seed=seed).to(dev)
    optimizer = torch.optim.Adam(prior.parameters(), lr=cfg.lr)
    loss_module = LossModule(prior, PriorNll())
    metadata = {"code_shape": json.dumps(list(run.model.code_shape)), "model_sha256": file_digest(path / WEIGHTS)}
    step = 0
    for epoch in range(1, cfg.epochs + 1):
        result = train_epoch(
            loss_module,
            optimizer,
            train_codes,
            batch_size=cfg.batch_size,
            step=step,
            shuffle_generator=seeded_generator(dev, seed, epoch, 4),
            generator=seeded_generator(dev, seed, epoch, 5),
            progress=config.train.progress,
            description=f"prior epoch {epoch}/{cfg.epochs}",
        )
        step = result.steps
        start = time.perf_counter()
        prior.eval()
        test = evaluate_batches(lambda c: {"nll": -prior.log_prob(c)}, test_codes, config.eval.batch_size)
        test_seconds = time.perf_counter() - start
        append_epoch_record(path / PRIOR_METRICS, epoch, result, test, test_seconds)
        save_weights(path / PRIOR, prior, metadata)
        if log:
            log(
                f"prior epoch {epoch}/{cfg.epochs}  train NLL {result.metrics['nll']:.2f}  test NLL {test['nll']:.2f} "
                f"nats per code map  ({result.seconds:.1f} s + {test_seconds:.1f} s)"
            )
    if cfg.epochs == 0:  # still a complete second stage (an untrained prior), as zero-epoch training is
        save_weights(path / PRIOR, prior, metadata)
    if log:
        log(f"wrote {path / PRIOR}")
    return load_run(path, device=str(dev))
