"""vaekit reconstruct RUN_DIR [--data SOURCE] [-n N] [--decode greedy|beam] [--beam-width W] --out FILE.png"""

from __future__ import annotations

import argparse

from vaekit.cli.common import (
    COUNT,
    add_data_args,
    add_decoding_args,
    data_name,
    decoding_of,
    example_text,
    load_split,
    output_path,
    run_view,
    wrote,
)
from vaekit.errors import VaekitError
from vaekit.run import load_run


def add_parser(sub) -> None:
    p = sub.add_parser("reconstruct", help="inputs (odd rows) above their reconstructions (even rows)")
    p.add_argument("run_dir", help="the run directory (written by `vaekit train`)")
    add_data_args(p, "the images to reconstruct")
    p.add_argument("-n", type=COUNT, default=32, help="number of images (the first N of the split)")
    add_decoding_args(p)
    p.add_argument(
        "--out", required=True, help="FILE.png to write (a table: FILE.csv, .tsv or .parquet; text: also FILE.txt)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    view = run_view(args.run_dir)
    out = output_path(args.out, tuple(s for s in view.suffixes if s != ".npy"))
    r = load_run(args.run_dir)
    if args.n < 1:
        raise VaekitError(f"-n must be at least 1, got {args.n}.")
    decoding = decoding_of(r, args)
    x, y = load_split(r, args)
    x, y = x[: args.n], None if y is None else y[: args.n]
    recon = r.reconstruct(x, y=y, decoding=decoding)
    layout = view.write_pairs(r.spec, x, recon, out)
    word = r.spec.facts.example_word
    how = "" if decoding is None else f", {decoding.describe()}"
    wrote(f"{x.shape[0]} {args.split} {word}s of {data_name(r, args)} {layout} ({example_text(r)}{how})", out)
    return 0
