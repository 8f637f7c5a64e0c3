"""Evaluate a trained run on a split of its data (or another source), through its training data pipeline."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import NamedTuple

import torch

from vaekit.config import Config
from vaekit.errors import VaekitError
from vaekit.evaluate.by_model import evaluation_for
from vaekit.evaluate.likelihood import PixelMeasure, column_reconstruction, sequence_measures
from vaekit.nn.likelihoods import likelihood_support
from vaekit.run import Run
from vaekit.train.loop import Cond, evaluate_batches
from vaekit.workflow.data import RunData, load_run_data


def data_config(run: Run, data: str | None, data_dir: str | None) -> Config:
    """The run's config with its data source and folder replaced where given (the run's own otherwise)."""
    config = copy.deepcopy(run.config)
    if data:
        config.data.source = data
    if data_dir:
        config.data.data_dir = data_dir
    return config


def random_subset(n: int, size: int | None, seed: int) -> torch.Tensor | None:
    """Indices (size,), in increasing order, of a random subset of range(n) drawn with `seed`; None for all n.

    A subset is random, never the first `size`: data sets can be sorted (binarized MNIST's test set is, by digit),
    and then the first examples are a biased sample. The draw uses its own CPU generator, so the same seed gives
    the same subset on every device.
    """
    if size is None or size >= n:
        return None
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=g)[: max(0, size)].sort().values


class EvaluationSplit(NamedTuple):
    x: torch.Tensor  # (N, C, H, W): the split, or the random subset of it
    cond: Cond  # its labels, for a conditional model
    data: RunData  # the loaded data (its binarization, its levels)
    subset: dict | None  # {"size", "of", "seed"} of a random subset; None: the whole split


def evaluation_split(run: Run, config: Config, split: str, limit: int | None, seed: int = 0) -> EvaluationSplit:
    """A split (and its labels, for a conditional model) through the run's data pipeline, checked against its
    shape, or a random subset of `limit` of its images drawn with `seed`; with the loaded data."""
    data = load_run_data(config, run.device, run.spec)
    x, cond = data.split(split)
    x = run.check_data(x, source=f"data '{config.data.source}'")
    if limit is not None and limit < 1:
        raise VaekitError(f"--limit must be at least 1, got {limit}.")
    n = x.shape[0]
    subset = None
    index = random_subset(n, limit, seed)
    if index is not None:
        index = index.to(x.device)
        x, cond = x[index], {k: v[index] for k, v in cond.items()}
        subset = {"size": int(index.numel()), "of": n, "seed": seed}
    if x.shape[0] == 0:
        raise VaekitError(f"there is nothing to evaluate: the {split} split is empty.")
    return EvaluationSplit(x, cond, data, subset)


def pixel_measure(run: Run, data: RunData) -> PixelMeasure:
    """What the run's likelihood measures on this data: its support, and the levels of the data's pixels."""
    return PixelMeasure(likelihood_support(run.config.model.likelihood.type), data.levels)


def _table_extras(
    run: Run, x: torch.Tensor, cond: Cond, generator: torch.Generator, batch_size: int, report: dict
) -> dict:
    """A table's report adds each column's share of the reconstruction term, {column: nats per row}."""

    def per_column(xb: torch.Tensor, **cb) -> dict[str, torch.Tensor]:
        return {"column": column_reconstruction(run.model, xb, generator, **cb)}  # (B, D)

    means = evaluate_batches(per_column, x, batch_size, cond=cond)["column"]  # D floats
    return {"reconstruction_per_column": dict(zip(run.spec.column_names(), means, strict=True))}


def _sequence_extras(
    run: Run, x: torch.Tensor, cond: Cond, generator: torch.Generator, batch_size: int, report: dict
) -> dict:
    """A sequence's report, by the protocol of He et al. 2019: the NLL in nats per sentence, the perplexity
    exp(total NLL / total tokens) with each sentence's <eos> counted as a token, the number of tokens, and whether
    the NLL is exact (a model without a latent, model.type=lm) or an importance-weighted bound."""
    return sequence_measures(report, x, exact=getattr(run.model, "latent_dim", None) == 0)


# What a kind adds to the likelihood report: (run, x, cond, generator, batch size, the report so far) -> {key: value}
KIND_EXTRAS: dict[str, Callable[..., dict]] = {
    "image": lambda *args: {},
    "table": _table_extras,
    "sequence": _sequence_extras,
}


# Importance samples K by kind: Burda et al. 2016's 5000 for images and tables; He et al. 2019's 500 for text.
IW_SAMPLES = {"sequence": 500}


def default_iw_samples(kind: str) -> int:
    """The K of the importance-weighted log-likelihood of `vaekit evaluate` for data of `kind`."""
    return IW_SAMPLES.get(kind, 5000)


def evaluate_run(
    run: Run,
    *,
    data: str | None = None,
    data_dir: str | None = None,
    split: str = "test",
    limit: int | None = None,
    iw_samples: int | None = None,
    batch_size: int = 100,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """The report of `run` on a split (for its model type), binarized as in training (dynamic: a fresh draw).

    A static binarization is the same fixed draw the run trained and was tested on; a density likelihood on
    integer-valued pixels is evaluated on dequantized pixels, as it was trained. `limit`: a random subset of that
    many examples, drawn with `seed` (the report's `subset`). `iw_samples`: K, default_iw_samples of the kind when
    None. The per-dimension number is bits/dim only where it
    is one (`per_dim_unit` says what it is; vaekit.evaluate.likelihood.PixelMeasure).
    """
    iw_samples = default_iw_samples(run.spec.kind) if iw_samples is None else iw_samples
    if iw_samples < 1 or batch_size < 1:
        raise VaekitError(f"--iw-samples and --batch-size must be at least 1, got {iw_samples} and {batch_size}.")
    config = data_config(run, data, data_dir)
    x, cond, loaded, subset = evaluation_split(run, config, split, limit, seed)
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
    report = pixel_measure(run, loaded).restate(report, math.prod(x.shape[1:]))
    report.update(KIND_EXTRAS[run.spec.kind](run, x, cond, generator, batch_size, report))
    report.update(
        data=config.data.source,
        split=split,
        binarize=getattr(config.data, "binarize", None),  # images only
        levels=loaded.levels,
        subset=subset,
        seed=seed,
    )
    return report
