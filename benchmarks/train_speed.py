"""Training-speed benchmark: vaekit's ``pytorch-example`` preset against pythae's ``VAE`` on MNIST.

What it measures
----------------
Both peers train the same model (the PyTorch VAE example: MLP 784-400-20 each way, Bernoulli/BCE
decoder on MNIST intensities in [0, 1], batch 128, Adam lr 1e-3) for ``--epochs`` epochs on CPU, one
after the other in this run, with the same number of torch threads, and report:

* seconds/epoch (train + test):
  - vaekit: mean over epochs of ``train_seconds + test_seconds`` from the run's ``metrics.jsonl``;
  - pythae: wall time of pythae's whole ``BaseTrainer.train()`` call (train pass + its per-epoch eval
    pass over the test set, plus its one-off setup and final model save) divided by the epochs,
    measured by ``benchmarks/pythae_vae.py`` in the pythae virtual environment.
* test -ELBO after N epochs, in nats per test example:
  - vaekit: ``-test_elbo`` of the last epoch in ``metrics.jsonl``;
  - pythae: mean over the test set of pythae's per-example loss (BCE summed over pixels + KL),
    computed after training with the final model in eval mode.
* the ratio of vaekit's to pythae's seconds/epoch (< 1 means vaekit is faster).

The machine (CPU model, cores, torch version and threads) and the date are printed with the table.
Threads: ``--threads`` (default: all usable cores) goes to ``torch.set_num_threads`` here and, via
``OMP_NUM_THREADS`` and ``--threads``, to the pythae subprocess.

Running it (from the repository root, with the Python that has vaekit installed)::

    python benchmarks/train_speed.py --epochs 10 --out /tmp/train_speed.json

The pythae side needs its own virtual environment (default ``.bench/pythae-venv``; if it is missing
the pythae peer is skipped with a note). Create it from the repository root, installing torch FIRST
so that the local CPU build is used::

    python3.11 -m venv .bench/pythae-venv
    .bench/pythae-venv/bin/python -m pip install --upgrade pip
    .bench/pythae-venv/bin/python -m pip install torch==2.13.0
    echo "torch==2.13.0" > /tmp/torch-constraint.txt
    .bench/pythae-venv/bin/python -m pip install pythae==0.1.2 -c /tmp/torch-constraint.txt
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from machine import machine_info, usable_cores  # benchmarks/machine.py, beside this script

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHAE_SCRIPT = Path(__file__).resolve().parent / "pythae_vae.py"
DEFAULT_PYTHAE_PYTHON = ".bench/pythae-venv/bin/python"


class CpuMonitor:
    """Measure how much CPU *other* processes used while a peer was being timed.

    System-wide busy time comes from ``/proc/stat``; this process's own CPU time (itself plus waited-for
    children, i.e. the pythae subprocess) from ``getrusage``. The difference is CPU time taken by
    something else on the machine, which slows the peer down on a small machine and makes timings
    unreliable. Linux only; elsewhere ``foreign_cpu_seconds`` is None.
    """

    def __init__(self) -> None:
        self.wall = 0.0
        self.foreign: float | None = None
        self._start: tuple[float, float | None, float] | None = None

    @staticmethod
    def _system_busy() -> float | None:
        try:
            fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        except (OSError, IndexError):
            return None
        ticks = [int(v) for v in fields]
        # user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait
        busy = sum(ticks) - ticks[3] - (ticks[4] if len(ticks) > 4 else 0)
        return busy / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own() -> float:
        total = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            r = resource.getrusage(who)
            total += r.ru_utime + r.ru_stime
        return total

    def __enter__(self) -> CpuMonitor:
        self._start = (time.perf_counter(), self._system_busy(), self._own())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._start is not None
        t0, busy0, own0 = self._start
        self.wall = time.perf_counter() - t0
        busy1 = self._system_busy()
        if busy0 is not None and busy1 is not None:
            self.foreign = max(0.0, (busy1 - busy0) - (self._own() - own0))

    def summary(self) -> dict[str, float | None]:
        share = None if self.foreign is None or self.wall <= 0 else self.foreign / self.wall
        return {"foreign_cpu_seconds": self.foreign, "foreign_cores_busy": share}


def read_metrics(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not rows:
        raise RuntimeError(f"{path} has no epochs")
    return rows


def run_vaekit(data_dir: Path, epochs: int, run_dir: Path | None) -> dict[str, Any]:
    """Train the ``pytorch-example`` preset through vaekit's Python API and summarise metrics.jsonl."""
    import torch

    import vaekit

    overrides = [f"data.data_dir={data_dir}", f"train.epochs={epochs}", "train.progress=false"]
    cfg = vaekit.load_config(preset="pytorch-example", overrides=overrides)
    with tempfile.TemporaryDirectory(prefix="vaekit-bench-") as tmp:
        out = run_dir if run_dir is not None else Path(tmp) / "run"
        t0 = time.perf_counter()
        run = vaekit.train(cfg, out=out, force=True)
        wall = time.perf_counter() - t0
        rows = read_metrics(Path(run.path) / "metrics.jsonl")
    per_epoch = [float(r["train_seconds"]) + float(r["test_seconds"]) for r in rows]
    last = rows[-1]
    try:
        version = metadata.version("vaekit")
    except metadata.PackageNotFoundError:
        version = getattr(vaekit, "__version__", "unknown")
    return {
        "peer": "vaekit",
        "version": version,
        "epochs": len(rows),
        "seconds_per_epoch": sum(per_epoch) / len(per_epoch),
        "train_seconds_per_epoch": sum(float(r["train_seconds"]) for r in rows) / len(rows),
        "eval_seconds_per_epoch": sum(float(r["test_seconds"]) for r in rows) / len(rows),
        "wall_seconds_per_epoch": wall / len(rows),
        "test_loss": -float(last["test_elbo"]),
        "test_reconstruction": float(last["test_reconstruction"]),
        "test_kl": float(last["test_kl"]),
        "torch_threads": torch.get_num_threads(),
    }


def run_pythae(
    python: Path, data_dir: Path, epochs: int, threads: int, verbose: bool, progress: bool = False
) -> dict[str, Any]:
    """Run ``pythae_vae.py`` in the pythae environment and parse its final JSON line."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    cmd = [
        str(python),
        str(PYTHAE_SCRIPT),
        f"--data-dir={data_dir}",
        f"--epochs={epochs}",
        f"--threads={threads}",
    ]
    if progress:
        cmd.append("--progress")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if verbose or proc.returncode != 0:
        sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"pythae run failed (exit {proc.returncode}): {' '.join(cmd)}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"no JSON result from {' '.join(cmd)}:\n{proc.stdout}")
    result: dict[str, Any] = json.loads(lines[-1])
    # end-to-end: data loading + trainer construction + the whole train() call (not interpreter start-up,
    # imports or this script's own post-training evaluation)
    parts = ("load_seconds", "setup_seconds", "train_call_seconds")
    end_to_end = sum(result[k] for k in parts) if all(k in result for k in parts) else wall
    result["wall_seconds_per_epoch"] = end_to_end / max(epochs, 1)
    result["subprocess_seconds"] = wall
    return result


def resolve_python(path: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_absolute() and not p.exists():
        p = REPO_ROOT / p
    return p


def fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_report(report: dict[str, Any]) -> None:
    m = report["machine"]
    print(
        f"Machine: {m['cpu']}, {m['cores_usable']} usable cores ({m['cores_total']} total), "
        f"torch {m['torch_version']}, {m['torch_threads']} torch threads, Python {m['python']}"
    )
    print(f"Date:    {m['date']}")
    print(f"Epochs:  {report['epochs']}    data: {report['data_dir']}")
    print()
    header = (
        "peer",
        "version",
        "s/epoch (train+test)",
        "train s",
        "test s",
        "end-to-end s/epoch",
        f"test -ELBO @{report['epochs']}",
    )
    rows = [
        (
            r["peer"],
            str(r.get("version", "?")),
            fmt(r.get("seconds_per_epoch"), ".2f"),
            fmt(r.get("train_seconds_per_epoch"), ".2f"),
            fmt(r.get("eval_seconds_per_epoch"), ".2f"),
            fmt(r.get("wall_seconds_per_epoch"), ".2f"),
            fmt(r.get("test_loss"), ".2f"),
        )
        for r in report["results"].values()
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    line = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    print(line.format(*header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))
    print()
    for r in report["results"].values():
        busy = r.get("foreign_cores_busy")
        if busy is not None and busy > 0.1:
            print(
                f"WARNING: other processes kept {busy:.2f} cores busy on average while {r['peer']} ran "
                f"({r['foreign_cpu_seconds']:.0f} CPU s); its timing is not reliable on this machine."
            )
    for note in report["notes"]:
        print(f"Note: {note}")
    if report.get("ratio_vaekit_over_pythae") is not None:
        print(f"Time ratio vaekit/pythae (s/epoch): {report['ratio_vaekit_over_pythae']:.3f}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path("/work/shared/data"),
        help="vaekit data.data_dir; MNIST idx .gz files are in <data-dir>/mnist",
    )
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument(
        "--pythae-python",
        default=DEFAULT_PYTHAE_PYTHON,
        help="python of the pythae venv (relative paths: cwd, then repository root)",
    )
    p.add_argument("--threads", type=int, default=None, help="torch threads for both (default: all cores)")
    p.add_argument("--out", type=Path, default=None, help="write the full report as JSON here")
    p.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        help="keep vaekit's run here (default: a temporary folder, removed afterwards)",
    )
    p.add_argument("--skip-vaekit", action="store_true", help="run only the pythae peer")
    p.add_argument("--skip-pythae", action="store_true", help="run only vaekit")
    p.add_argument(
        "--pythae-progress",
        action="store_true",
        help="keep pythae's tqdm progress bars (its default; off here to match train.progress=false)",
    )
    p.add_argument("--verbose", action="store_true", help="show the pythae subprocess's log")
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error("--epochs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    threads = args.threads or usable_cores()
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)
    data_dir = args.data_dir.resolve()
    report: dict[str, Any] = {
        "benchmark": "train_speed",
        "epochs": args.epochs,
        "data_dir": str(data_dir),
        "machine": machine_info(threads),
        "results": {},
        "notes": [],
        "ratio_vaekit_over_pythae": None,
    }

    if args.skip_vaekit:
        report["notes"].append("vaekit skipped (--skip-vaekit)")
    else:
        print(f"Training vaekit (pytorch-example preset, {args.epochs} epochs)...", flush=True)
        with CpuMonitor() as mon:
            report["results"]["vaekit"] = run_vaekit(data_dir, args.epochs, args.run_dir)
        report["results"]["vaekit"].update(mon.summary())

    python = resolve_python(args.pythae_python)
    if args.skip_pythae:
        report["notes"].append("pythae skipped (--skip-pythae)")
    elif not python.exists():
        report["notes"].append(f"pythae skipped: {python} not found (see this script's docstring)")
    else:
        print(f"Training pythae VAE ({args.epochs} epochs) with {python}...", flush=True)
        with CpuMonitor() as mon:
            report["results"]["pythae"] = run_pythae(
                python, data_dir, args.epochs, threads, args.verbose, args.pythae_progress
            )
        report["results"]["pythae"].update(mon.summary())

    results = report["results"]
    if "vaekit" in results and "pythae" in results:
        report["ratio_vaekit_over_pythae"] = (
            results["vaekit"]["seconds_per_epoch"] / results["pythae"]["seconds_per_epoch"]
        )
    report["notes"].append(
        "s/epoch: vaekit = mean of metrics.jsonl train_seconds + test_seconds; pythae = its whole "
        "BaseTrainer.train() wall time / epochs (incl. its one-off setup and final save; train/test "
        "columns from a timing callback). end-to-end = data loading + model/trainer setup + training + "
        "all saving, / epochs (vaekit: the vaekit.train() call, with per-epoch checkpoints and samples)"
    )
    print()
    print_report(report)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"Report written to {args.out}")
    return report


if __name__ == "__main__":
    main()
