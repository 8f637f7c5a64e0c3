"""vaekit evaluate RUN_DIR [--data SOURCE] [--split test] [--limit N] [--iw-samples K] [--out FILE.json]

vaekit evaluate RUN_DIR --disentanglement [--num-train N] [--num-eval M] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import sys

from tqdm.auto import tqdm

from vaekit.atomic import atomic_write_text
from vaekit.cli.common import SEED, add_data_args, int_in, output_path, wrote
from vaekit.evaluate.by_model import evaluation_for
from vaekit.evaluate.disentanglement import DCI_MODELS
from vaekit.evaluate.report import summary_rows
from vaekit.run import load_run
from vaekit.workflow.disentanglement import METRICS, disentanglement_report
from vaekit.workflow.evaluation import default_iw_samples, evaluate_run


def add_parser(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="ELBO, importance-weighted log p(x), bits/dim, KL per dim, active units (a VQ-VAE: reconstruction, "
        "prior NLL of the codes, two-stage bits/dim, codebook usage)",
    )
    p.add_argument("run_dir", help="the run directory (written by `vaekit train`)")
    add_data_args(p, "the images to evaluate")
    p.add_argument(
        "--limit",
        type=int_in(1, 10**9),
        help="evaluate a random subset of N examples of the split, drawn with --seed (default: the whole split)",
    )
    p.add_argument(
        "--iw-samples",
        type=int_in(1, 10**7),
        help="importance samples K (default: 5000; 500 for text, the protocol of He et al. 2019)",
    )
    p.add_argument("--batch-size", type=int_in(1, 10**6), default=100, help="examples per batch (memory, not results)")
    p.add_argument(
        "--seed", type=SEED, default=0, help="seed of the importance samples, binarization, dequantization and --limit"
    )
    p.add_argument(
        "--disentanglement",
        action="store_true",
        help="instead: MIG, FactorVAE, beta-VAE and DCI scores on the factor grid of the run's data "
        "(shapes, dsprites), and test-split reconstruction",
    )
    p.add_argument(
        "--num-train", type=int_in(1, 10**7), default=10_000, help="--disentanglement: training points per metric"
    )
    p.add_argument(
        "--num-eval", type=int_in(1, 10**7), default=5_000, help="--disentanglement: evaluation points per metric"
    )
    p.add_argument(
        "--dci-model",
        choices=DCI_MODELS,
        default="boosting",
        help="--disentanglement: DCI's classifier; boosting as disentanglement_lib, forest is faster but reads lower",
    )
    p.add_argument("--out", help="FILE.json to write the report to (default: the report is only printed)")
    p.set_defaults(func=run)


def format_report(report: dict, summary: tuple[str, ...]) -> str:
    """The `summary` numbers as a two-column table (nats per example unless named otherwise).

    Where the likelihood gives no bits/dim (a density on continuous data), `nats_per_dim` stands in its place;
    `per_dim_unit` says what the per-dimension number is.
    """
    lines = [f"{'':19s} {'value':>12}   (nats per example unless named otherwise)"]
    for key, value in summary_rows(report, summary):
        if key == "per dimension":
            lines.append(f"per dimension: {value}")
        else:
            lines.append(f"{key:19s} {value:12.4f}" if isinstance(value, float) else f"{key:19s} {value:>12}")
    samples = f"K = {report['iw_samples']}, " if "iw_samples" in report else ""
    subset = report.get("subset")
    drawn = f" (a random {subset['size']} of {subset['of']}, seed {subset['seed']})" if subset else ""
    lines.append(
        f"{report['num_examples']} {report['split']} examples{drawn} of {report['data']}, {samples}"
        f"{report['seconds']:.1f} s"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    out = output_path(args.out, (".json",)) if args.out else None
    r = load_run(args.run_dir)
    if args.disentanglement:
        return run_disentanglement(args, r, out)
    iw_samples = args.iw_samples or default_iw_samples(r.spec.kind)
    with tqdm(desc=f"evaluate (K={iw_samples})", unit="ex", disable=None) as bar:
        report = evaluate_run(
            r,
            data=args.data,
            data_dir=args.data_dir,
            split=args.split,
            limit=args.limit,
            iw_samples=iw_samples,
            batch_size=args.batch_size,
            seed=args.seed,
            progress=bar.update,
        )
    print(format_report(report, evaluation_for(r.config.model.type).summary))
    if r.prior_note():
        print(f"vaekit evaluate: note: {r.prior_note()}", file=sys.stderr)
    _write(report, out)
    return 0


def _write(report: dict, out) -> None:
    if out:
        atomic_write_text(out, json.dumps(report, indent=2) + "\n")
        wrote(f"the report of {report['num_examples']} {report['split']} examples", out)


def run_disentanglement(args: argparse.Namespace, r, out) -> int:
    report = disentanglement_report(
        r,
        data=args.data,
        data_dir=args.data_dir,
        num_train=args.num_train,
        num_eval=args.num_eval,
        dci_model=args.dci_model,
        limit=args.limit,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    print(format_report(report, (*METRICS, "reconstruction", "kl", "elbo")))
    _write(report, out)
    return 0
