"""Disentanglement on `shapes` (the procedural dSprites grid): beta = 1 against beta = 4 and capacity control.

Each variant trains the `shapes-beta-vae` preset (Higgins/Burgess dSprites conv net, 10 latents, Bernoulli,
Adam 5e-4, batch 64) on `shapes:SUBSET` for `--epochs` epochs, once per seed (train.seed = 0..SEEDS-1, one
data split), then scores it with `vaekit evaluate --disentanglement`'s report: MIG, FactorVAE, beta-VAE and
DCI disentanglement (`--num-train` / `--num-eval` points each; disentanglement_lib uses 10000 / 5000) and the
test-split reconstruction log p(x|z) and KL in nats. Prints a table of means +- standard deviations over seeds
and writes every number to OUT/disentanglement.json.

Published ranges on dSprites: MIG about 0.05-0.15 for a plain VAE, up to about 0.35-0.4 for beta-TCVAE;
FactorVAE metric about 0.73 (beta-VAE) to 0.82 (FactorVAE).

    python benchmarks/disentanglement.py --epochs 20 --seeds 3 --device auto --out runs/bench-disentanglement
    python benchmarks/disentanglement.py --epochs 4 --seeds 3 --jobs 2 --precision bf16  # the 2-core CPU budget
    python benchmarks/disentanglement.py --epochs 4 --seeds 3 --rescore-dci  # DCI again, same settings as the run
    python benchmarks/disentanglement.py --epochs 1 --subset 2000 --seeds 1 --num-train 100 --num-eval 50  # smoke test
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time
from pathlib import Path

import torch

import vaekit
from machine import machine_info  # benchmarks/machine.py, beside this script
from vaekit.atomic import atomic_write_text
from vaekit.data import load_factor_grid
from vaekit.evaluate.disentanglement import DCI_MODELS, dci_disentanglement
from vaekit.workflow.disentanglement import (
    METRICS,
    disentanglement_report,
    factor_encoder,
    grid_images,
    scored_codes,
)

COLUMNS = (*METRICS, "reconstruction", "kl", "active_dims")


def variants(args: argparse.Namespace) -> dict[str, list[str]]:
    """Overrides of the preset per variant; capacity C reaches C_max after `--capacity-ramp` of the epochs."""
    capacity = [
        "objective.name=capacity",
        "objective.beta=1",
        f"objective.gamma={args.gamma}",
        f"objective.capacity_max={args.capacity_max}",
        "objective.capacity_steps=0",
        f"objective.capacity_epochs={args.capacity_ramp * args.epochs}",
    ]
    table = {
        "beta=1": ["objective.beta=1"],
        "beta=4": ["objective.beta=4"],
        "capacity": capacity,
        "beta-tcvae": ["objective.name=beta_tcvae", f"objective.beta={args.tc_beta}"],
    }
    return {name: table[name] for name in args.variants}


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def train_and_score(name: str, extra: list[str], seed: int, settings: dict, threads: int) -> dict:
    """Train one variant with one seed and score it; prints its line as soon as it is done."""
    torch.set_num_threads(threads)
    config = vaekit.load_config(
        preset="shapes-beta-vae",
        overrides=[
            f"data.source=shapes:{settings['subset']}",
            f"train.epochs={settings['epochs']}",
            f"train.seed={seed}",
            f"train.device={settings['device']}",
            f"train.precision={settings['precision']}",
            "train.progress=false",
            *extra,
        ],
    )
    start = time.perf_counter()
    run = vaekit.train(config, Path(settings["out"]) / f"{name}-seed{seed}", force=True)
    train_seconds = time.perf_counter() - start
    report = disentanglement_report(
        run,
        num_train=settings["num_train"],
        num_eval=settings["num_eval"],
        dci_model=settings["dci_model"],
        seed=seed,
    )
    row = {key: report[key] for key in (*METRICS, "reconstruction", "kl", "kl_per_dim", "dci_model")}
    row.update(
        variant=name,
        seed=seed,
        active_dims=sum(k > 0.1 for k in report["kl_per_dim"]),
        train_seconds=round(train_seconds, 1),
        eval_seconds=round(report["seconds"], 1),
    )
    print(
        f"{name:10s} seed {seed}  "
        + "  ".join(f"{k} {row[k]:.3f}" for k in METRICS)
        + f"  log p(x|z) {row['reconstruction']:.1f}  KL {row['kl']:.1f}  active {row['active_dims']}"
        f"  ({train_seconds:.0f} s + {report['seconds']:.0f} s, {threads} threads)",
        flush=True,
    )
    return row


def rescore_dci(row: dict, settings: dict, threads: int) -> dict:
    """A scored run's DCI again with settings["dci_model"], on the same codes of the same factor draw."""
    torch.set_num_threads(threads)
    run = vaekit.load_run(Path(settings["out"]) / f"{row['variant']}-seed{row['seed']}")
    encode = factor_encoder(run, grid_images(load_factor_grid("shapes")))
    factors, codes, rng = scored_codes(encode, settings["num_train"], row["seed"])  # as disentanglement_report
    start = time.perf_counter()
    score = dci_disentanglement(codes, factors, rng, settings["dci_model"])
    print(
        f"{row['variant']:10s} seed {row['seed']}  dci_disentanglement {row['dci_disentanglement']:.3f} "
        f"({row['dci_model']}) -> {score:.3f} ({settings['dci_model']}, "
        f"{time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    return dict(row, dci_disentanglement=score, dci_model=settings["dci_model"])


def _apply(task: tuple):
    function, *args = task
    return function(*args)


def run_tasks(function, tasks: list[tuple], jobs: int):
    """function(*task) for each task, in `jobs` processes when jobs > 1; yields results as they finish."""
    calls = [(function, *task) for task in tasks]
    if jobs == 1:
        yield from map(_apply, calls)
        return
    # one process per task: small convolutions use two 1-thread processes better than one of 2 threads
    with multiprocessing.get_context("spawn").Pool(jobs, maxtasksperchild=1) as pool:
        yield from pool.imap_unordered(_apply, calls, chunksize=1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seeds", type=int, default=3, help="train.seed = 0 .. SEEDS-1 per variant")
    p.add_argument("--subset", type=int, default=100_000, help="images drawn from the grid (shapes:SUBSET)")
    p.add_argument("--num-train", type=int, default=10_000, help="metric training points (and MIG/DCI codes)")
    p.add_argument("--num-eval", type=int, default=5_000, help="metric evaluation points")
    p.add_argument(
        "--variants",
        nargs="+",
        default=["beta=1", "beta=4", "capacity"],
        choices=["beta=1", "beta=4", "capacity", "beta-tcvae"],
    )
    p.add_argument("--gamma", type=float, default=1000.0, help="capacity: weight on |KL - C|")
    p.add_argument("--capacity-max", type=float, default=25.0, help="capacity: C_max in nats")
    p.add_argument("--capacity-ramp", type=float, default=0.8, help="capacity: share of the epochs C rises over")
    p.add_argument("--tc-beta", type=float, default=6.0, help="beta-tcvae: weight on the total correlation")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "auto"), help="train.precision")
    p.add_argument("--jobs", type=int, default=1, help="runs trained at once, each in its own process")
    p.add_argument("--threads", type=int, help="torch threads per run (default: the cores divided by --jobs)")
    p.add_argument("--dci-model", choices=DCI_MODELS, default="boosting", help="DCI's classifier")
    p.add_argument(
        "--rescore-dci",
        action="store_true",
        help="train nothing: score DCI again with --dci-model for the runs in --out/runs.jsonl scored otherwise",
    )
    p.add_argument("--out", default="runs/bench-disentanglement")
    args = p.parse_args()
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"shapes:{args.subset}, {args.epochs} epochs, seeds 0..{args.seeds - 1}, metrics on {args.num_train} / "
        f"{args.num_eval} points, torch {torch.__version__}, {args.jobs} job(s) of {threads} thread(s), "
        f"precision {args.precision}",
        flush=True,
    )
    rows_file = out / "runs.jsonl"  # each run's row as soon as it is scored
    if args.rescore_dci:
        rows = [json.loads(line) for line in rows_file.read_text().splitlines() if line.strip()]
        stale = [r for r in rows if r["dci_model"] != args.dci_model]
        done = list(run_tasks(rescore_dci, [(r, vars(args), threads) for r in stale], args.jobs))
        rows = [r for r in rows if r not in stale] + done
        atomic_write_text(rows_file, "".join(json.dumps(r) + "\n" for r in rows))
    else:
        table = variants(args)
        # seed-major order: if the budget runs out, every variant has its first seeds
        tasks = [(name, table[name], seed, vars(args), threads) for seed in range(args.seeds) for name in table]
        rows_file.write_text("")
        rows = []
        for row in run_tasks(train_and_score, tasks, args.jobs):
            rows.append(row)
            with rows_file.open("a") as f:
                f.write(json.dumps(row) + "\n")
    results: dict[str, list[dict]] = {}
    for row in rows:
        results.setdefault(row["variant"], []).append(row)
    runs = {name: sorted(rows, key=lambda r: r["seed"]) for name, rows in results.items()}
    summary = {name: {key: mean_std([float(r[key]) for r in rows]) for key in COLUMNS} for name, rows in runs.items()}
    header = f"{'variant':10s}" + "".join(f"{key:>23s}" for key in COLUMNS)
    print("\n" + header)
    for name, stats in summary.items():
        print(f"{name:10s}" + "".join(f"{m:14.3f} +- {s:5.3f}" for m, s in (stats[k] for k in COLUMNS)))
    print("(mean +- standard deviation over seeds; reconstruction = test log p(x|z) in nats per image)")
    result = {
        "settings": vars(args),
        "summary": {name: {k: {"mean": m, "std": s} for k, (m, s) in stats.items()} for name, stats in summary.items()},
        "runs": runs,
        "machine": machine_info(threads),
    }
    (out / "disentanglement.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out / 'disentanglement.json'}")


if __name__ == "__main__":
    main()
