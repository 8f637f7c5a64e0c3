"""vaekit impute RUN_DIR --data INCOMPLETE --out COMPLETED [--num-samples K] [--draws M [--spread FILE]] [--seed S]
[--force]"""

from __future__ import annotations

import argparse
from pathlib import Path

from vaekit.cli.common import COUNT, SEED, output_path, wrote
from vaekit.errors import VaekitError
from vaekit.run import load_run
from vaekit.workflow.imputation import IMPUTE_OUTPUTS, impute_file


def add_parser(sub) -> None:
    p = sub.add_parser(
        "impute",
        help="fill in the missing cells of a table (MIWAE: importance-weighted conditional means, or --draws M "
        "multiple imputations)",
    )
    p.add_argument("run_dir", help="the run directory (written by `vaekit train`, best with data.missing=model)")
    p.add_argument(
        "--data",
        required=True,
        metavar="FILE",
        help="the table with missing cells (CSV, TSV, Parquet or .npy; empty cells, NaN, and the run's "
        "data.missing_values are missing)",
    )
    p.add_argument(
        "--out",
        required=True,
        help="the completed table to write (.csv, .tsv, .parquet): the same rows and columns, missing cells filled in "
        "(a CSV's other cells keep their text); with --draws, M completed tables one after the other, told apart by "
        "a first column `draw` (0 .. M-1)",
    )
    p.add_argument(
        "--num-samples",
        type=COUNT,
        default=1000,
        metavar="K",
        help="importance samples z ~ q(z|x_obs) per row",
    )
    p.add_argument(
        "--draws",
        type=COUNT,
        default=None,
        metavar="M",
        help="write M multiple imputations (sampling importance resampling) instead of the single imputation (default: "
        "the single imputation)",
    )
    p.add_argument(
        "--spread",
        metavar="FILE",
        help="with --draws: also write how much each cell's draws disagree (the standard deviation of a real or count "
        "column in its units; the share of draws off the most frequent value of a binary or categorical one) (default: "
        "not written)",
    )
    p.add_argument("--seed", type=SEED, default=0, help="seed of the importance samples and draws")
    p.add_argument("--force", action="store_true", help="overwrite --out (and --spread) if it exists")
    p.set_defaults(func=run)


def _fresh(path: str, force: bool, flag: str) -> Path:
    out = output_path(path, IMPUTE_OUTPUTS)
    if out.exists() and not force:
        raise VaekitError(f"{flag} '{path}' exists. Give another file, or --force to overwrite it.")
    return out


def run(args: argparse.Namespace) -> int:
    out = _fresh(args.out, args.force, "--out")
    if args.spread is not None and args.draws is None:
        raise VaekitError("--spread describes the draws of --draws M: give --draws too.")
    spread = _fresh(args.spread, args.force, "--spread") if args.spread is not None else None
    r = load_run(args.run_dir)
    done = impute_file(
        r, args.data, out, num_samples=args.num_samples, num_draws=args.draws or 0, seed=args.seed, spread_out=spread
    )
    how = f"{done.draws} multiple imputations" if done.draws else "the importance-weighted conditional mean"
    wrote(
        f"the {done.rows} rows of '{args.data}' with {done.missing_cells} missing cells filled in ({how}, "
        f"{args.num_samples} importance samples per row)",
        out,
    )
    if spread is not None:
        wrote("the spread of each cell's draws", spread)
    return 0
