"""Synthetic rows of a table run, drawn the run's own way, measured against its real training and test rows
(vaekit.evaluate.synthetic): what `vaekit evaluate --synthetic N` prints and the report's "Synthetic data" shows."""

from __future__ import annotations

import copy
import time

import pandas as pd
import torch

from vaekit.data.tables import decode_column, decode_rows
from vaekit.errors import VaekitError
from vaekit.evaluate.synthetic import synthetic_quality
from vaekit.run import Run
from vaekit.workflow.data import load_run_data

MAX_SYNTHETIC = 1_000_000


def real_rows(run: Run) -> tuple[pd.DataFrame, pd.DataFrame, torch.Tensor | None]:
    """The run's training and test rows in the table's units (read through its spec), with the label column where
    the model is conditioned on it, and the training labels (N,) (None without)."""
    data = load_run_data(copy.deepcopy(run.config), "cpu", run.spec).data
    frames = [decode_rows(data.train, run.spec), decode_rows(data.test, run.spec)]
    labels = None
    if "labels" in run.capabilities and run.spec.label is not None:
        for f, y in zip(frames, (data.train_labels, data.test_labels), strict=True):
            f[run.spec.label.name] = decode_column(y.double().numpy(), run.spec.label).to_numpy()
        labels = data.train_labels
    return frames[0], frames[1], labels


def synthetic_rows(
    run: Run, num: int, generator: torch.Generator, train_labels: torch.Tensor | None = None
) -> pd.DataFrame:
    """`num` rows drawn from the run (z ~ p(z), x ~ p(x|z): `Run.sample`) in the table's units. A conditional model's
    classes are drawn first in the training rows' proportions (`train_labels`), and written in the label column."""
    y = None
    if train_labels is not None:
        counts = torch.bincount(train_labels, minlength=len(run.spec.label.categories)).double()  # (K,)
        y = torch.multinomial(counts.to(generator.device), num, replacement=True, generator=generator).cpu()
    frame = decode_rows(run.sample(num, generator=generator, y=y), run.spec)
    if y is not None:
        frame[run.spec.label.name] = decode_column(y.double().numpy(), run.spec.label).to_numpy()
    return frame


def synthetic_report(run: Run, num: int, *, target: str | None = None, seed: int = 0) -> dict:
    """`num` synthetic rows drawn with `seed`, measured against the run's real rows (synthetic_quality).

    target: the column whose prediction compares train-on-synthetic with train-on-real; default: the label column of
    a model conditioned on it, else none (not measured).
    """
    if run.spec.kind != "table":
        raise VaekitError(
            f"--synthetic measures synthetic rows of a table; run '{run.path}' models {run.spec.kind}s. Use it with a "
            "table run."
        )
    if not 1 <= num <= MAX_SYNTHETIC:
        raise VaekitError(f"--synthetic must be from 1 to {MAX_SYNTHETIC} rows, got {num}.")
    start = time.perf_counter()
    train, test, labels = real_rows(run)
    names = list(train.columns)
    if target is None and labels is not None:
        target = run.spec.label.name
    if target is not None and target not in names:
        label = run.spec.label.name if run.spec.label is not None else None
        why = (
            f" '{label}' is the run's label column, which an unconditional model does not generate."
            if target == label
            else ""
        )
        raise VaekitError(f"--target '{target}' is not a column the run generates ({names}).{why} Name one of those.")
    generator = torch.Generator(device=run.device).manual_seed(seed)
    synthetic = synthetic_rows(run, num, generator, labels)
    report = synthetic_quality(train, test, synthetic, run.spec, target=target, seed=seed)
    report.update(data=run.config.data.source, seed=seed, seconds=time.perf_counter() - start)
    return report
