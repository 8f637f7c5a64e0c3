"""Training for a budget of minutes: the whole epochs that fit, counted from the first epoch's time."""

from __future__ import annotations

import math
from pathlib import Path

import vaekit


def train_for_budget(
    preset: str, overrides: list[str], out: Path, budget_seconds: float, name: str
) -> tuple[vaekit.Run, int, float]:
    """Train `preset` with `overrides` for the whole epochs that fit in the budget: one epoch to measure, then
    resume to that count (so the count is fixed however busy the machine is afterwards).

    Returns the run, its number of epochs and its training + test seconds.
    """
    config = vaekit.load_config(preset=preset, overrides=["train.progress=false", *overrides, "train.epochs=1"])
    log = lambda msg: print(f"[{name}] {msg}", flush=True)  # noqa: E731
    run = vaekit.train(config, out, force=True, log=log)
    first = run.metrics()[0]
    epochs = max(1, math.floor(budget_seconds / (first["train_seconds"] + first["test_seconds"])))
    if epochs > 1:
        run = vaekit.resume(out, epochs=epochs, log=log)
    seconds = sum(m["train_seconds"] + m["test_seconds"] for m in run.metrics())
    return run, epochs, seconds
