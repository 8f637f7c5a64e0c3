"""vaekit score RUN_DIR [--data SOURCE] [--split test] --out FILE.csv [--num-samples K] [--force]"""

from __future__ import annotations

import argparse

from tqdm.auto import tqdm

from vaekit.cli.common import SEED, add_data_args, int_in, output_path, wrote
from vaekit.data.tables import write_table
from vaekit.errors import VaekitError
from vaekit.run import load_run
from vaekit.workflow.scoring import score_source


def add_parser(sub) -> None:
    p = sub.add_parser(
        "score",
        help="each row's (image's) importance-weighted log p(x) and ELBO in nats, a table's per-column shares: low "
        "scores flag unusual examples",
    )
    p.add_argument("run_dir", help="the run directory (written by `vaekit train`)")
    add_data_args(
        p, "the rows, images or sentences to score (a table: every row of the file; --split applies to the others)"
    )
    p.add_argument(
        "--out", required=True, help="FILE.csv, .tsv or .parquet to write, one row per row (image, sentence)"
    )
    p.add_argument("--num-samples", type=int_in(1, 10**7), default=1000, help="importance samples K per example")
    p.add_argument("--batch-size", type=int_in(1, 10**6), default=100, help="examples per batch (memory, not results)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the importance samples (and a binarization's draws)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = output_path(args.out, (".csv", ".tsv", ".parquet", ".pq"))
    if out.exists() and not args.force:
        raise VaekitError(f"--out '{out}' already exists. Pass --force to overwrite it, or choose another --out.")
    r = load_run(args.run_dir)
    if r.spec.kind == "table" and args.split != "test":
        raise VaekitError("--split applies to images and sentences: a table's every row of --data is scored.")
    with tqdm(desc=f"score (K={args.num_samples})", unit=r.spec.facts.example_word, disable=None) as bar:
        scores = score_source(
            r,
            args.data,
            args.data_dir,
            args.split,
            num_samples=args.num_samples,
            batch_size=args.batch_size,
            seed=args.seed,
            progress=bar.update,
        )
    write_table(scores, out)
    ll = scores["log_likelihood"]
    print(
        f"log p(x) per {r.spec.facts.example_word}, nats (K = {args.num_samples}): mean {ll.mean():.3f}, "
        f"median {ll.median():.3f}, min {ll.min():.3f} (key {scores.iloc[int(ll.to_numpy().argmin()), 0]})"
    )
    wrote(f"the scores of {len(scores)} {r.spec.facts.example_word}s ({scores.shape[1]} columns)", out)
    return 0
