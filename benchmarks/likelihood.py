"""Test-set log-likelihood of the `iwae-paper` preset on MNIST, against Burda et al. (2016), Table 1.

Trains the preset (MLP 784-200-200-50 tanh, Bernoulli, dynamically binarized MNIST, batch 20, Adam with eps
1e-4, the 3^i-pass learning-rate schedule) for `--epochs` epochs (the paper's full schedule is 3280), then
estimates log p(x) on the test set with K = 5000 importance samples and prints the NLL in nats next to the
paper's (VAE 86.76, IWAE k=50 84.78), with training and evaluation times.

    VAEKIT_DATA=../shared/data python benchmarks/likelihood.py --epochs 100 --out runs/bench-likelihood
    VAEKIT_DATA=../shared/data python benchmarks/likelihood.py --objective iwae --k 50 --epochs 100 ...
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from pathlib import Path

import torch

import vaekit
from vaekit.workflow.evaluation import evaluate_run

PAPER_NLL = {"elbo": 86.76, "iwae": 84.78}  # Burda et al. 2016, Table 1, one stochastic layer, k = 1 / 50


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=100, help="cap on the 3280-epoch schedule")
    p.add_argument("--objective", choices=("elbo", "iwae"), default="elbo")
    p.add_argument("--k", type=int, default=50, help="importance samples of the IWAE objective")
    p.add_argument("--eval-limit", type=int, help="test examples to evaluate (default: all 10000)")
    p.add_argument("--timing-limit", type=int, default=1000, help="examples of the timed evaluation")
    p.add_argument("--iw-samples", type=int, default=5000)
    p.add_argument("--out", default="runs/bench-likelihood", help="run directory (overwritten)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out to --epochs")
    args = p.parse_args()

    overrides = ["train.progress=false", f"objective.name={args.objective}"]
    if args.objective == "iwae":
        overrides.append(f"objective.num_samples={args.k}")
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    start = time.perf_counter()
    if args.resume:
        run = vaekit.resume(args.out, epochs=args.epochs, log=log)
    else:
        config = vaekit.load_config(preset="iwae-paper", overrides=[*overrides, f"train.epochs={args.epochs}"])
        run = vaekit.train(config, args.out, force=True, log=log)
    train_seconds = sum(m["train_seconds"] + m["test_seconds"] for m in run.metrics())
    wall = time.perf_counter() - start

    timed = evaluate_run(run, limit=args.timing_limit, iw_samples=args.iw_samples)
    full = evaluate_run(run, limit=args.eval_limit, iw_samples=args.iw_samples)
    result = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
        "objective": args.objective if args.objective == "elbo" else f"iwae k={args.k}",
        "epochs": args.epochs,
        "train_seconds": round(train_seconds, 1),
        "train_wall_seconds": round(wall, 1),
        "test_nll": -full["log_likelihood"],
        "test_neg_elbo": -full["elbo"],
        "elbo_gap": full["elbo_gap"],
        "active_units": full["active_units"],
        "num_examples": full["num_examples"],
        "eval_seconds": round(full["seconds"], 1),
        f"eval_seconds_{args.timing_limit}": round(timed["seconds"], 1),
        "paper_nll": PAPER_NLL[args.objective],
    }
    print(json.dumps(result, indent=2))
    Path(args.out, "likelihood_benchmark.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
