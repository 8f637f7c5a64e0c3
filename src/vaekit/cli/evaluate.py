"""vaekit evaluate RUN_DIR [--data SOURCE] [--split test] [--limit N] [--iw-samples K] [--out FILE.json]

vaekit evaluate RUN_DIR --disentanglement [--num-train N] [--num-eval M] [--out FILE.json]

vaekit evaluate RUN_DIR --synthetic N [--target COLUMN] [--seed S] [--out FILE.json]

vaekit evaluate RUN_DIR --molecules N [--data-dir DIR] [--no-fcd] [--seed S] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import sys

from tqdm.auto import tqdm

from vaekit.atomic import atomic_write_text
from vaekit.cli.common import SEED, add_data_args, int_in, output_path, wrote
from vaekit.errors import VaekitError
from vaekit.evaluate.by_model import evaluation_for
from vaekit.evaluate.disentanglement import DCI_MODELS
from vaekit.evaluate.report import summary_rows
from vaekit.run import load_run
from vaekit.workflow.disentanglement import METRICS, disentanglement_report
from vaekit.workflow.evaluation import default_iw_samples, evaluate_run
from vaekit.workflow.molecules import MAX_MOLECULES, molecules_report
from vaekit.workflow.synthetic import MAX_SYNTHETIC, synthetic_report


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
    p.add_argument(
        "--synthetic",
        type=int_in(1, MAX_SYNTHETIC),
        metavar="N",
        help="instead (a table run): draw N rows with --seed and measure them against the real rows: column shapes, "
        "pair trends, train-on-synthetic against train-on-real (--target), distance to closest record (default: the "
        "likelihood evaluation)",
    )
    p.add_argument(
        "--target",
        metavar="COLUMN",
        help="--synthetic: the column a random forest predicts from the others, trained on synthetic rows and on real "
        "ones (default: a conditional model's label column, else not measured)",
    )
    p.add_argument(
        "--molecules",
        type=int_in(1, MAX_MOLECULES),
        metavar="N",
        help="instead (a SMILES run): draw N molecules with --seed and measure them by the MOSES metrics against "
        "<data dir>/moses's test and test_scaffolds sets, novelty against the training molecules; 30000 in the "
        "published table (default: the likelihood evaluation)",
    )
    p.add_argument(
        "--no-fcd",
        action="store_true",
        help="--molecules: leave out the Frechet ChemNet Distance (default: measured; it loads ChemNet)",
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
    if args.synthetic is not None:
        return run_synthetic(args, r, out)
    if args.molecules is not None:
        return run_molecules(args, r, out)
    if args.no_fcd:
        raise VaekitError("--no-fcd applies to --molecules N: give both, or neither.")
    if args.target is not None:
        raise VaekitError("--target applies to --synthetic N: give both, or neither.")
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


def format_synthetic(report: dict) -> str:
    """The measures of synthetic rows (vaekit.evaluate.synthetic) in words: higher is closer, 1 is identical."""
    lines = [
        f"{report['num_synthetic']} synthetic rows (seed {report['seed']}) against {report['num_train']} train / "
        f"{report['num_test']} test rows of {report['data']}; scores in [0, 1], 1 is identical",
        f"{'column shapes':24s} {report['column_shapes_score']:.4f}   (mean of the columns below)",
    ]
    for name, shape in report["column_shapes"].items():
        score = "undefined" if shape["score"] is None else f"{shape['score']:.4f}"
        lines.append(f"  {name:22s} {score:>6}   {shape['metric']} ({shape['type']})")
    trends = report["pair_trends_score"]
    lines.append(
        f"{'pair trends':24s} {'undefined' if trends is None else f'{trends:.4f}'}   (mean over "
        f"{len(report['pair_trends'])} pairs: CorrelationSimilarity, ContingencySimilarity)"
    )
    ml = report["ml_efficacy"]
    if ml is None:
        lines.append(f"{'TSTR / TRTR':24s} not measured (name a column with --target)")
    else:
        lines.append(
            f"{'TSTR / TRTR':24s} {ml['tstr']:.4f} / {ml['trtr']:.4f}   ({ml['metric']} predicting '{ml['target']}' "
            f"on the real test rows, {ml['model']} trained on synthetic / real train rows)"
        )
    dcr = report["dcr"]
    for who in ("synthetic", "test"):
        q = dcr[who]
        lines.append(
            f"{'DCR ' + who:24s} p05 {q['p05']:.4f}  p25 {q['p25']:.4f}  p50 {q['p50']:.4f}   (distance to the "
            "closest training row, standardized)"
        )
    lines.append(
        f"{'closer than test p05':24s} {100 * dcr['share_closer_than_test_p05']:.1f} % of synthetic rows (about 5 % "
        f"when rows are not copied); exact copies {100 * dcr['share_copies']:.1f} %"
    )
    lines.append(f"{report['seconds']:.1f} s")
    return "\n".join(lines)


def run_synthetic(args: argparse.Namespace, r, out) -> int:
    report = synthetic_report(r, args.synthetic, target=args.target, seed=args.seed)
    print(format_synthetic(report))
    if out:
        atomic_write_text(out, json.dumps(report, indent=2) + "\n")
        wrote(f"the measures of {report['num_synthetic']} synthetic rows", out)
    return 0


def format_molecules(report: dict) -> str:
    """The MOSES metrics of drawn molecules (vaekit.evaluate.molecules) as a two-column table."""
    lines = [
        f"{report['num_molecules']} molecules drawn (seed {report['seed']}) from a run on {report['data']}; against "
        f"the MOSES test sets in {report['references']}, novelty against {report['train']}"
    ]
    for name, value in report["metrics"].items():
        lines.append(f"{name:14s} {'undefined' if value is None else f'{value:.4f}':>10}")
    if len(report["metrics"]) == 1:
        lines.append("no valid molecule: the other metrics are not defined")
    lines.append(f"{report['seconds']:.1f} s")
    return "\n".join(lines)


def run_molecules(args: argparse.Namespace, r, out) -> int:
    report = molecules_report(r, args.molecules, seed=args.seed, data_dir=args.data_dir, fcd=not args.no_fcd)
    print(format_molecules(report))
    if out:
        atomic_write_text(out, json.dumps(report, indent=2) + "\n")
        wrote(f"the MOSES metrics of {report['num_molecules']} molecules", out)
    return 0
