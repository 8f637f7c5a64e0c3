"""vaekit evaluate RUN_DIR [--data SOURCE] [--split test] [--limit N] [--iw-samples K] [--out FILE.json]"""

from __future__ import annotations

import argparse
import json

from tqdm.auto import tqdm

from vaekit.cli.common import output_path
from vaekit.evaluate.run_report import evaluate_run
from vaekit.run import load_run
from vaekit.train.checkpoint import atomic_write_text

SUMMARY = ("elbo", "log_likelihood", "elbo_gap", "reconstruction", "kl", "bits_per_dim", "active_units")


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="ELBO, importance-weighted log p(x), bits/dim, KL per dim, active units")
    p.add_argument("run_dir")
    p.add_argument("--data", help="a data source (default: the one the run was trained on)")
    p.add_argument("--data-dir", help="where built-in data sets are looked for (default: the run's)")
    p.add_argument("--split", choices=("train", "test"), default="test")
    p.add_argument("--limit", type=int, help="evaluate only the first N examples of the split")
    p.add_argument("--iw-samples", type=int, default=5000, help="importance samples K (default 5000)")
    p.add_argument("--batch-size", type=int, default=100, help="examples per batch (memory, not results)")
    p.add_argument("--seed", type=int, default=0, help="seed of the importance samples and binarization")
    p.add_argument("--out", help="FILE.json for the report")
    p.set_defaults(func=run)


def format_report(report: dict) -> str:
    """The headline numbers as a two-column table (nats per example unless named otherwise)."""
    lines = [f"{'':16s} {'value':>12}   (nats per example; bits_per_dim in bits per pixel)"]
    for key in SUMMARY:
        value = report[key]
        lines.append(f"{key:16s} {value:12.4f}" if isinstance(value, float) else f"{key:16s} {value:>12}")
    lines.append(
        f"{report['num_examples']} {report['split']} examples of {report['data']}, K = {report['iw_samples']}, "
        f"{report['seconds']:.1f} s"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    out = output_path(args.out, (".json",)) if args.out else None
    r = load_run(args.run_dir)
    with tqdm(desc=f"evaluate (K={args.iw_samples})", unit="ex", disable=None) as bar:
        report = evaluate_run(
            r,
            data=args.data,
            data_dir=args.data_dir,
            split=args.split,
            limit=args.limit,
            iw_samples=args.iw_samples,
            batch_size=args.batch_size,
            seed=args.seed,
            progress=bar.update,
        )
    print(format_report(report))
    if out:
        atomic_write_text(out, json.dumps(report, indent=2) + "\n")
    return 0
