"""vaekit report RUN_DIR --out FILE.html [--seed S] [--quick-examples N] [--quick-iw-samples K]"""

from __future__ import annotations

import argparse
import sys

from vaekit.cli.common import SEED, int_in, output_path, wrote
from vaekit.report import ReportOptions, write_report
from vaekit.run import load_run


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="one self-contained HTML page about a run: config, curves, samples, reconstructions, traversals, "
        "KL per dimension, evaluation (opens offline)",
    )
    p.add_argument("run_dir", help="the run directory (written by `vaekit train`)")
    p.add_argument("--out", required=True, help="FILE.html to write")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the samples and the quick evaluation")
    p.add_argument(
        "--quick-examples",
        type=int_in(1, 100_000),
        default=500,
        help="test examples of the quick evaluation made when the run directory has no evaluate report",
    )
    p.add_argument("--quick-iw-samples", type=int_in(1, 100_000), default=100, help="its importance samples K")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = output_path(args.out, (".html", ".htm"))
    options = ReportOptions(seed=args.seed, quick_examples=args.quick_examples, quick_iw_samples=args.quick_iw_samples)
    r = load_run(args.run_dir)
    write_report(r, out, options, log=lambda msg: print(f"report: {msg}", file=sys.stderr))
    wrote(f"the report of '{r.path}' ({out.stat().st_size / 1e6:.2f} MB)", out)
    return 0
