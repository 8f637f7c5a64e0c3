"""Synthetic rows of vaekit's table VAE against SDV's TVAE (the `ctgan` package, run as a peer: nothing of it is
copied), on scikit-learn's breast_cancer, wine and diabetes, by the measures of vaekit.evaluate.synthetic.

    python benchmarks/synthetic.py [--tables breast_cancer wine diabetes] [--epochs 300] [--seeds 0 1 2]
                                   [--out results.json] [--quick]

Each table is split 80/20 by vaekit's seeded hold-out (data.split_seed 0); both models fit the same training rows in
the table's units (TVAE told which columns are discrete) for the same number of epochs, then draw as many rows as
the training split has. Both are measured against the same real rows in one run: column shapes and pair trends
(SDMetrics), TSTR against TRTR (a random forest predicting each table's target: breast_cancer's class, wine's
cultivar, diabetes' progression, R^2), and the distance to closest record. Fit and sampling times are printed.
TVAE runs with its defaults (batch 500, its own 128-dimensional latent); vaekit with the configuration VAEKIT (batch
32). --quick: 3 epochs, one seed, 200 rows: a smoke test of the script, not a result.

Install TVAE without changing torch: `pip install --no-deps ctgan rdt Faker` (ctgan's other needs, numpy, pandas,
scikit-learn, scipy, torch, tqdm, python-dateutil, are vaekit's already); it is not a vaekit dependency.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from machine import machine_info  # noqa: E402
from vaekit.config import load_config  # noqa: E402
from vaekit.evaluate.synthetic import synthetic_quality  # noqa: E402
from vaekit.workflow.synthetic import real_rows, synthetic_rows  # noqa: E402
from vaekit.workflow.training import train  # noqa: E402

TARGETS = {"breast_cancer": "target", "wine": "target", "diabetes": "progression"}
VAEKIT = [
    "model.latent_dim=8",
    "model.network.hidden=[128, 128]",
    "model.likelihood.type=columns",
    "model.likelihood.learn_sigma=per_column",
    "objective.warmup_epochs=10",
    "data.test_fraction=0.2",
    "train.batch_size=32",
    "train.lr=0.001",
    "train.progress=false",
]


def run_vaekit(table: str, epochs: int, seed: int, root: Path) -> dict:
    out = root / f"{table}-vaekit-{seed}"
    config = load_config(overrides=[f"data.source={table}", *VAEKIT, f"train.epochs={epochs}", f"train.seed={seed}"])
    start = time.perf_counter()
    run = train(config, out, force=True)
    fit = time.perf_counter() - start
    train_rows, test_rows, labels = real_rows(run)
    start = time.perf_counter()
    synthetic = synthetic_rows(run, len(train_rows), torch.Generator().manual_seed(seed), labels)
    return {
        "run": run,
        "train": train_rows,
        "test": test_rows,
        "synthetic": synthetic,
        "fit": fit,
        "sample": time.perf_counter() - start,
    }


def run_tvae(train_rows, spec, epochs: int, seed: int) -> dict:
    from ctgan import TVAE

    discrete = [c.name for c in spec.columns if c.type in ("binary", "categorical")]
    torch.manual_seed(seed)  # TVAE draws from torch's global generator
    np.random.seed(seed)
    model = TVAE(epochs=epochs, cuda=False)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train_rows, discrete_columns=discrete)
    fit = time.perf_counter() - start
    start = time.perf_counter()
    synthetic = model.sample(len(train_rows))[list(train_rows.columns)]
    return {"synthetic": synthetic, "fit": fit, "sample": time.perf_counter() - start}


def measure(table: str, epochs: int, seed: int, root: Path) -> list[dict]:
    ours = run_vaekit(table, epochs, seed, root)
    spec = ours["run"].spec
    peer = run_tvae(ours["train"], spec, epochs, seed)
    results = []
    for name, made in (("vaekit", ours), ("TVAE (ctgan)", peer)):
        quality = synthetic_quality(ours["train"], ours["test"], made["synthetic"], spec, TARGETS[table], seed)
        results.append(
            {
                "table": table,
                "model": name,
                "seed": seed,
                "epochs": epochs,
                "fit_seconds": made["fit"],
                "sample_seconds": made["sample"],
                **quality,
            }
        )
        print(
            f"{table} seed {seed} {name}: shapes {quality['column_shapes_score']:.3f}, trends "
            f"{quality['pair_trends_score']:.3f}, fit {made['fit']:.1f} s",
            file=sys.stderr,
        )
    return results


def markdown(results: list[dict]) -> str:
    """One line per table and model: means over the seeds (± their standard deviation where there are several)."""

    def cell(values: list[float], digits: int = 3) -> str:
        mean = float(np.mean(values))
        return f"{mean:.{digits}f}" + (f" ± {np.std(values, ddof=1):.{digits}f}" if len(values) > 1 else "")

    head = (
        "| table | model | epochs | column shapes | pair trends | TSTR | TRTR | DCR median synth / test | "
        "synth closer than test p05 | fit s | sample s |\n|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    keys = sorted(
        {(r["table"], r["model"]) for r in results}, key=lambda k: (list(TARGETS).index(k[0]), k[1] != "vaekit")
    )
    for table, model in keys:
        rs = [r for r in results if r["table"] == table and r["model"] == model]
        ml = [r["ml_efficacy"] for r in rs]
        lines.append(
            f"| {table} | {model} | {rs[0]['epochs']} | {cell([r['column_shapes_score'] for r in rs])} | "
            f"{cell([r['pair_trends_score'] for r in rs])} | {cell([m['tstr'] for m in ml])} {ml[0]['metric']} | "
            f"{cell([m['trtr'] for m in ml])} | {cell([r['dcr']['synthetic']['p50'] for r in rs], 2)} / "
            f"{cell([r['dcr']['test']['p50'] for r in rs], 2)} | "
            f"{cell([r['dcr']['share_closer_than_test_p05'] for r in rs])} | "
            f"{cell([r['fit_seconds'] for r in rs], 1)} | "
            f"{cell([r['sample_seconds'] for r in rs], 2)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--epochs", type=int, default=300, help="epochs of both models (TVAE's default is 300)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs", default="runs/benchmark-synthetic", help="where vaekit's runs are written")
    parser.add_argument("--out", help="a JSON file for every number")
    parser.add_argument("--quick", action="store_true", help="3 epochs, one seed: a smoke test, not a result")
    args = parser.parse_args()
    epochs, seeds = (3, [0]) if args.quick else (args.epochs, args.seeds)
    root = Path(args.runs)
    results = [r for table in args.tables for seed in seeds for r in measure(table, epochs, seed, root)]
    print(machine_info())
    print(markdown(results))
    if args.out:
        Path(args.out).write_text(json.dumps({"machine": machine_info(), "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
