"""Imputation RMSE of vaekit (MIWAE) against scikit-learn's imputers on incomplete tables, with each one's time.

    python benchmarks/imputation.py [--tables breast_cancer wine diabetes] [--rates 0.2 0.5] [--seeds 5]
        [--out results.json]
    python benchmarks/imputation.py --quick      # a smoke check: wine, one seed, both rates, 60 steps, no forest
    python benchmarks/imputation.py --no-forest  # without missForest (on breast_cancer: 30 forests a round)

Protocol (Mattei & Frellsen 2019, section 4.3, and the authors' notebook): each table is scikit-learn's bundled one
without its target, standardized with its own mean and standard deviation (every column real, diabetes' two-valued
`sex` included); a share `rate` of all cells is removed completely at random (exactly floor(rate * N * D) cells,
seeded; 5 mask seeds), and every method imputes the whole incomplete table it is given: vaekit trains on that table
itself (data.missing=model, all rows; nothing else is ever seen) and fills it in by the importance-weighted
conditional mean (`Run.impute`, L = --num-samples). The score is the RMSE over the removed cells, in standardized
units (1.0 is about what the mean imputation scores). Times are wall-clock seconds of fitting plus imputing, on one
thread (`--threads`).

scikit-learn: SimpleImputer(mean), KNNImputer(5), IterativeImputer(BayesianRidge) at its defaults (10 rounds), and
IterativeImputer with a RandomForestRegressor(100 trees) as the estimator, the missForest recipe (Stekhoven &
Buehlmann 2012), 10 rounds.

vaekit's settings (VAEKIT, LATENT, STEPS) follow the authors' notebook where it says: two hidden layers of 128 for
the encoder and the decoder, the MIWAE bound with K = 20 importance samples, Adam at 1e-3, batches of 64, a Gaussian
p(x|z) whose scale the decoder gives (their Student's t, without its degrees of freedom). Their 2000 epochs become a
fixed budget of STEPS optimizer steps per table, so a small table (wine, 3 steps per epoch) trains as many steps as
a large one. The latent size is not in the notebook's UCI runs; we take about a third of the columns (LATENT), chosen
before any run on these tables and not tuned on their scores.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).parent))
from machine import machine_info  # noqa: E402
from vaekit.config import load_config  # noqa: E402
from vaekit.workflow.training import train  # noqa: E402

TABLES = ("breast_cancer", "wine", "diabetes")
LOADERS = {"breast_cancer": "load_breast_cancer", "wine": "load_wine", "diabetes": "load_diabetes"}
VAEKIT = [
    "model.likelihood.type=columns",
    "model.likelihood.learn_sigma=decoder",
    "model.network.hidden=[128, 128]",
    "objective.name=iwae",
    "objective.num_samples=20",
    "data.missing=model",
    "train.batch_size=64",
    "train.lr=0.001",
    "train.progress=false",
]
LATENT = {"breast_cancer": 10, "wine": 4, "diabetes": 3}  # about D / 3
STEPS = 6000  # optimizer steps per run (the notebook: 2000 epochs of its 150-row table, about 6000 steps)
QUICK_STEPS = 60
VAEKIT_NAME = "vaekit (MIWAE)"


def standardized(table: str) -> np.ndarray:
    """The table's features (N, D) float64, each column standardized with its own mean and standard deviation."""
    import sklearn.datasets

    x = getattr(sklearn.datasets, LOADERS[table])(return_X_y=True)[0].astype(np.float64)
    return (x - x.mean(0)) / x.std(0)


def mcar(x: np.ndarray, rate: float, seed: int) -> np.ndarray:
    """x with exactly floor(rate * N * D) cells set to NaN, chosen uniformly at random with `seed`."""
    holed = x.copy().ravel()
    holed[np.random.default_rng(seed).choice(holed.size, math.floor(rate * holed.size), replace=False)] = np.nan
    return holed.reshape(x.shape)


def sklearn_imputers(quick: bool) -> dict:
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

    imputers = {
        "mean": lambda seed: SimpleImputer(strategy="mean"),
        "KNNImputer(5)": lambda seed: KNNImputer(n_neighbors=5),
        "IterativeImputer(BayesianRidge)": lambda seed: IterativeImputer(random_state=seed),
    }
    if not quick:
        imputers["IterativeImputer(RandomForest) = missForest"] = lambda seed: IterativeImputer(
            estimator=RandomForestRegressor(n_estimators=100, random_state=seed), max_iter=10, random_state=seed
        )
    return imputers


def vaekit_impute(table: str, holed: np.ndarray, seed: int, steps: int, num_samples: int, runs: Path) -> np.ndarray:
    """Train vaekit on the incomplete table itself and fill it in (Run.impute); (N, D)."""
    n, d = holed.shape
    names = [f"x{j}" for j in range(d)]
    source = runs / f"{table}-{seed}.npz"
    np.savez(source, train=holed, test=holed[: max(2, n // 10)])  # the test split only feeds the epoch log
    epochs = max(1, round(steps / math.ceil(n / 64)))
    overrides = [
        *VAEKIT,
        f"model.latent_dim={LATENT[table]}",
        f"data.source={source}",
        f"train.epochs={epochs}",
        f"train.seed={seed}",
        *(f"data.columns.{name}=real" for name in names),  # diabetes' sex too: every method reads it as a number
    ]
    run = train(load_config(overrides=overrides), runs / f"{table}-{seed}", force=True, log=lambda *a, **k: None)
    generator = torch.Generator().manual_seed(seed)
    completed = run.impute(pd.DataFrame(holed, columns=names), num_samples=num_samples, generator=generator)
    return completed.to_numpy(dtype=np.float64)


def rmse(imputed: np.ndarray, truth: np.ndarray, holes: np.ndarray) -> float:
    return float(np.sqrt(np.mean((imputed[holes] - truth[holes]) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=TABLES)
    parser.add_argument("--rates", nargs="+", type=float, default=[0.2, 0.5])
    parser.add_argument("--seeds", type=int, default=5, help="mask seeds 0 .. S-1")
    parser.add_argument("--num-samples", type=int, default=1000, help="vaekit's importance samples per row")
    parser.add_argument("--steps", type=int, default=STEPS, help="vaekit's optimizer steps per run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="wine, one seed, a few steps, no random forest")
    parser.add_argument("--no-forest", action="store_true", help="leave out missForest (a forest per column)")
    parser.add_argument("--out", help="also write the results as JSON")
    args = parser.parse_args()
    if args.quick:
        args.tables, args.seeds, args.num_samples = ["wine"], 1, 100
    steps = QUICK_STEPS if args.quick else args.steps
    torch.set_num_threads(args.threads)
    results = {"machine": machine_info(args.threads), "steps": steps, "num_samples": args.num_samples, "rows": []}
    imputers = sklearn_imputers(args.quick or args.no_forest)
    with tempfile.TemporaryDirectory(prefix="vaekit-bench-impute-") as tmp:
        for table in args.tables:
            truth = standardized(table)
            for rate in args.rates:
                scores: dict[str, list[tuple[float, float]]] = {}
                for seed in range(args.seeds):
                    holed = mcar(truth, rate, seed)
                    holes = np.isnan(holed)
                    for name in [*imputers, VAEKIT_NAME]:
                        start = time.perf_counter()
                        if name == VAEKIT_NAME:
                            imputed = vaekit_impute(table, holed, seed, steps, args.num_samples, Path(tmp))
                        else:
                            imputed = imputers[name](seed).fit_transform(holed)
                        seconds = time.perf_counter() - start
                        assert np.array_equal(imputed[~holes], truth[~holes]), f"{name} changed an observed cell"
                        scores.setdefault(name, []).append((rmse(imputed, truth, holes), seconds))
                for name, runs in scores.items():
                    errors, times = np.array([r for r, _ in runs]), np.array([t for _, t in runs])
                    row = {
                        "table": table,
                        "rate": rate,
                        "method": name,
                        "rmse": errors.tolist(),
                        "seconds": times.tolist(),
                    }
                    results["rows"].append(row)
                    summary = f"RMSE {errors.mean():.3f} ± {errors.std():.3f}  {times.mean():7.2f} s"
                    print(f"{table:14s} {rate:4.0%}  {name:44s} {summary}", flush=True)
    print()
    print(markdown(results["rows"], args.seeds))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


def markdown(rows: list[dict], seeds: int) -> str:
    """One line per table, rate and method: the mean RMSE over the mask seeds, its standard deviation, the time."""
    lines = [
        f"| table | missing | method | RMSE (mean ± sd over {seeds} mask seeds) | seconds per run |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        errors = np.array(row["rmse"])
        lines.append(
            f"| {row['table']} | {row['rate']:.0%} | {row['method']} | {errors.mean():.3f} ± {errors.std():.3f} | "
            f"{np.mean(row['seconds']):.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
