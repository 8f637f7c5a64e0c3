"""Evaluate a trained run on a split of its data (or another source), through its training data pipeline."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch

from vaekit.config import Config
from vaekit.errors import VaekitError
from vaekit.evaluate.by_model import evaluation_for
from vaekit.run import Run
from vaekit.train.loop import Cond
from vaekit.workflow.data import RunData, load_run_data


def data_config(run: Run, data: str | None, data_dir: str | None) -> Config:
    """The run's config with its data source and folder replaced where given (the run's own otherwise)."""
    config = copy.deepcopy(run.config)
    if data:
        config.data.source = data
    if data_dir:
        config.data.data_dir = data_dir
    return config


def evaluation_split(run: Run, config: Config, split: str, limit: int | None) -> tuple[torch.Tensor, Cond, RunData]:
    """The first `limit` images of a split (and their labels, for a conditional model), through the run's data
    pipeline, checked against its shape; with the loaded data (for its binarization)."""
    data = load_run_data(config, run.device)
    x, cond = data.split(split)
    x = run.check_data(x, source=f"data '{config.data.source}'")
    if limit is not None:
        x, cond = x[: max(0, limit)], {k: v[: max(0, limit)] for k, v in cond.items()}
    if x.shape[0] == 0:
        raise VaekitError(f"there is nothing to evaluate: the {split} split is empty (check --limit).")
    return x, cond, data


def evaluate_run(
    run: Run,
    *,
    data: str | None = None,
    data_dir: str | None = None,
    split: str = "test",
    limit: int | None = None,
    iw_samples: int = 5000,
    batch_size: int = 100,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """The report of `run` on a split (for its model type), binarized as in training (dynamic: a fresh draw).

    A static binarization is the same fixed draw the run trained and was tested on.
    """
    if iw_samples < 1 or batch_size < 1:
        raise VaekitError(f"--iw-samples and --batch-size must be at least 1, got {iw_samples} and {batch_size}.")
    config = data_config(run, data, data_dir)
    x, cond, loaded = evaluation_split(run, config, split, limit)
    generator = torch.Generator(device=run.device).manual_seed(seed)
    report = evaluation_for(run.config.model.type).report(
        run.model,
        x,
        iw_samples=iw_samples,
        batch_size=batch_size,
        generator=generator,
        transform=loaded.binarization.per_batch,
        progress=progress,
        cond=cond,
        capabilities=run.capabilities,
    )
    report.update(data=config.data.source, split=split, binarize=config.data.binarize, seed=seed)
    return report
