"""MOSES (issue 26): the MOSES VAE and CharRNN presets trained under the same CPU budget, N molecules sampled from
each and measured by the MOSES metrics beside the published table, and each model's NLL per test molecule.

    VAEKIT_DATA=../shared/data python benchmarks/moses.py --budget-minutes 60 --out moses.json      # idle machine
    VAEKIT_DATA=../shared/data python benchmarks/moses.py --budget-minutes 45 --parallel            # both at once
    VAEKIT_DATA=../shared/data python benchmarks/moses.py --quick                                   # a smoke test
    python benchmarks/moses.py --summary moses.json                                                 # print it again

The budget. Each model trains for one pass over a seeded random subset of the MOSES training split (1 584 663
molecules) sized to fill `--budget-minutes` of training: a probe of `--probe-steps` steps (on their own subset) gives
the seconds per step with the same threads and load, and the subset holds budget / (seconds per step) batches.
One pass, so every schedule that MOSES sets over "the whole run" (the VAE's KL weight rising from 0 to its end
value, objective.warmup_epochs=1) runs over the whole budget, each molecule is seen once, and the step count is
fixed before training starts: a load that changes afterwards stretches the wall time, not the training. Each
model's steps, molecules and training seconds are printed beside its metrics.

The presets are used as they are (src/vaekit/presets/moses-vae.yaml and moses-charrnn.yaml: MOSES's
architectures, learning rates and KL schedule), with these deviations, all for the budget:
- the VAE trains with batches of `--vae-batch-size` (default 64; MOSES: 512): at 1-2 CPU threads a step of 512
  molecules through the 3 x 512 GRU decoder takes about 8-18 s, so an hour holds a few hundred steps; batches of 64
  give about eight times as many updates for the same molecules (the CharRNN's own batch is 64);
- the test split is a seeded random `--test-molecules` (default 1000) of its 176 074, scored after the pass; the NLL
  per molecule is measured on a seeded random `--nll-molecules` (default 500) of those (importance sampling at
  K = `--iw-samples`, default 100, for the VAE: an upper bound on its NLL; exact for the CharRNN).
The MOSES metrics (`vaekit evaluate RUN --molecules N`, vaekit.evaluate.molecules) use the whole test and
test_scaffolds sets and, for novelty, the whole training split, as the published table does. The first evaluation on
a machine computes the two sets' statistics (40 + 39 minutes on one shared core here; vaekit.workflow.molecules keeps
them in the cache, and the second model's evaluation waits for them): the whole run at 60 minutes took about 2 hours.

`--parallel` trains and evaluates the two models at the same time, each with `--threads` threads (default 1 when
parallel, else 2): the same conditions for both on the 2-core machine. Without it they run in turn.

The published rows (Polykovskiy et al. 2020, MOSES, trained to convergence on GPUs; the values issue 26 quotes) are
printed beside ours. The commands of the full schedule for a GPU are printed at the end (`GPU_COMMANDS`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import machine_info  # noqa: E402

MODELS = {"vae": "moses-vae", "charrnn": "moses-charrnn"}
PUBLISHED = {  # Polykovskiy et al. 2020, as quoted by issue 26
    "vae": {
        "valid": 0.9767,
        "unique@10000": 0.9984,
        "FCD/Test": 0.099,
        "SNN/Test": 0.6257,
        "Frag/Test": 0.9994,
        "Scaf/Test": 0.9386,
        "IntDiv": 0.8558,
        "Filters": 0.997,
        "Novelty": 0.6949,
    },
    "charrnn": {"valid": 0.9748, "FCD/Test": 0.0732, "Novelty": 0.8419},
}
SHOWN = [
    "valid",
    "unique@1000",
    "unique@10000",
    "FCD/Test",
    "FCD/TestSF",
    "SNN/Test",
    "SNN/TestSF",
    "Frag/Test",
    "Frag/TestSF",
    "Scaf/Test",
    "Scaf/TestSF",
    "IntDiv",
    "IntDiv2",
    "Filters",
    "Novelty",
]
GPU_COMMANDS = [
    "vaekit train --preset moses-vae train.device=cuda --out runs/moses-vae",
    "vaekit evaluate runs/moses-vae --molecules 30000 --out runs/moses-vae/moses.json",
    "vaekit evaluate runs/moses-vae --iw-samples 500 --out runs/moses-vae/likelihood.json",
    "vaekit train --preset moses-charrnn train.device=cuda --out runs/moses-charrnn",
    "vaekit evaluate runs/moses-charrnn --molecules 30000 --out runs/moses-charrnn/moses.json",
    "vaekit evaluate runs/moses-charrnn --out runs/moses-charrnn/likelihood.json",
]
PRINT_LOCK = threading.Lock()


def say(name: str, message: str) -> None:
    with PRINT_LOCK:
        print(f"[{name}] {message}", flush=True)


def vaekit(name: str, args: list[str], threads: int) -> None:
    """One `vaekit` command with `threads` OpenMP threads, its output prefixed by the model's name."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    command = [sys.executable, "-m", "vaekit", *args]
    say(name, "$ vaekit " + " ".join(args))
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as p:
        for line in p.stdout:
            say(name, line.rstrip())
    if p.returncode:
        raise RuntimeError(f"[{name}] vaekit {' '.join(args)} failed with exit status {p.returncode}")


def train_overrides(model: str, batch_size: int, molecules: int, test_molecules: int) -> list[str]:
    overrides = [
        "train.epochs=1",
        f"train.batch_size={batch_size}",
        f"data.train_limit={molecules}",
        f"data.test_limit={test_molecules}",
        "train.progress=false",
    ]
    if model == "vae":
        overrides.append("objective.warmup_epochs=1")  # MOSES: the KL weight rises over the whole run
    return overrides


def seconds_per_step(run_dir: Path) -> float:
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return metrics[-1]["train_seconds"] / metrics[-1]["step"]


def run_model(model: str, args: argparse.Namespace, threads: int, results: dict) -> None:
    preset, root = MODELS[model], Path(args.runs)
    batch = args.vae_batch_size if model == "vae" else args.charrnn_batch_size
    probe = root / f"{model}-probe"
    probe_args = train_overrides(model, batch, args.probe_steps * batch, 100)
    vaekit(model, ["train", "--preset", preset, *probe_args, "--out", str(probe), "--force"], threads)
    per_step = seconds_per_step(probe)
    steps = max(1, math.floor(args.budget_minutes * 60 / per_step))
    molecules = steps * batch
    say(model, f"probe: {per_step:.2f} s a step; the budget holds {steps} steps = {molecules} molecules")
    out = root / model
    overrides = train_overrides(model, batch, molecules, args.test_molecules)
    start = time.perf_counter()
    vaekit(model, ["train", "--preset", preset, *overrides, "--out", str(out), "--force"], threads)
    wall = time.perf_counter() - start
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if line.strip()][-1]
    start = time.perf_counter()
    evaluate = ["evaluate", str(out), "--molecules", str(args.samples), "--seed", "0", "--out", str(out / "moses.json")]
    if args.no_fcd:
        evaluate.append("--no-fcd")
    vaekit(model, evaluate, threads)
    sample_seconds = time.perf_counter() - start
    start = time.perf_counter()
    likelihood = ["evaluate", str(out), "--iw-samples", str(args.iw_samples), "--limit", str(args.nll_molecules)]
    likelihood += ["--out", str(out / "likelihood.json")]
    vaekit(model, likelihood, threads)
    nll_seconds = time.perf_counter() - start
    results[model] = {
        "preset": preset,
        "overrides": overrides,
        "threads": threads,
        "probe_seconds_per_step": per_step,
        "steps": int(metrics["step"]),
        "molecules_seen": molecules,
        "train_seconds": metrics["train_seconds"],
        "train_wall_seconds": wall,
        "metrics_seconds": sample_seconds,
        "likelihood_seconds": nll_seconds,
        "moses": json.loads((out / "moses.json").read_text()),
        "likelihood": json.loads((out / "likelihood.json").read_text()),
    }


def nll_line(result: dict) -> str:
    """The NLL per test molecule (exact or an IW bound), the ELBO, KL and per-token perplexity."""
    r = result["likelihood"]
    how = "exact" if r["nll_exact"] else f"IW bound, K = {r['iw_samples']}"
    return (
        f"NLL {r['nll']:.3f} nats per molecule ({how}, {r['num_examples']} test molecules), -ELBO {-r['elbo']:.3f}, "
        f"KL {r['kl']:.3f}, perplexity {r['perplexity']:.4f}"
    )


def table(results: dict) -> str:
    lines = ["| metric | " + " | ".join(f"vaekit {m} | published {m}" for m in results) + " |"]
    lines.append("|---" * (1 + 2 * len(results)) + "|")
    for key in SHOWN:
        cells = []
        for model, result in results.items():
            ours = result["moses"]["metrics"].get(key)
            cells.append("-" if ours is None else f"{ours:.4f}")
            theirs = PUBLISHED[model].get(key)
            cells.append("" if theirs is None else f"{theirs}")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget-minutes", type=float, default=60.0, help="training minutes per model")
    parser.add_argument("--samples", type=int, default=30000, help="molecules drawn per model (MOSES: 30000)")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["vae", "charrnn"])
    parser.add_argument("--vae-batch-size", type=int, default=64)
    parser.add_argument("--charrnn-batch-size", type=int, default=64)
    parser.add_argument("--test-molecules", type=int, default=1000)
    parser.add_argument("--iw-samples", type=int, default=100)
    parser.add_argument("--nll-molecules", type=int, default=500, help="test molecules the NLL is measured on")
    parser.add_argument("--probe-steps", type=int, default=20)
    parser.add_argument("--parallel", action="store_true", help="train and evaluate the models at the same time")
    parser.add_argument("--threads", type=int, default=None, help="threads per model (default 1 parallel, else 2)")
    parser.add_argument("--no-fcd", action="store_true")
    parser.add_argument("--runs", default="runs/moses-benchmark")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 0.3 minutes, 1000 samples, no FCD")
    parser.add_argument("--summary", metavar="JSON", help="only print the summary of an earlier run's --out file")
    args = parser.parse_args()
    if args.summary:
        summary(json.loads(Path(args.summary).read_text()))
        return
    if args.quick:
        args.budget_minutes, args.samples, args.test_molecules, args.iw_samples = 0.3, 1000, 50, 5
        args.nll_molecules = 20
        args.probe_steps, args.no_fcd = 3, True
    threads = args.threads or (1 if args.parallel else 2)
    Path(args.runs).mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if args.parallel:
        workers = [threading.Thread(target=run_model, args=(m, args, threads, results)) for m in args.models]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    else:
        for model in args.models:
            run_model(model, args, threads, results)
    missing = [m for m in args.models if m not in results]
    if missing:
        sys.exit(f"failed: {', '.join(missing)} (see the log above)")
    results = {m: results[m] for m in args.models}
    record = {"machine": machine_info(threads), "args": vars(args), "started": started, "results": results}
    if args.out:
        Path(args.out).write_text(json.dumps(record, indent=1))
    summary(record)


def summary(record: dict) -> None:
    args, results = record["args"], record["results"]
    minutes, samples = args["budget_minutes"], args["samples"]
    print(f"\nMOSES at {minutes:g} CPU minutes of training per model, {samples} samples (started {record['started']})")
    for model, r in results.items():
        print(
            f"{model}: {r['steps']} steps of {r['overrides'][1].split('=')[1]} ({r['molecules_seen']} molecules), "
            f"{r['train_seconds']:.0f} s training ({r['train_wall_seconds']:.0f} s wall), {r['threads']} thread(s); "
            f"{nll_line(r)}; metrics {r['metrics_seconds']:.0f} s"
        )
    print(table(results))
    print("\nThe full schedule on a GPU:\n" + "\n".join("    " + c for c in GPU_COMMANDS))


if __name__ == "__main__":
    main()
