"""vaekit interpolate RUN_DIR [--data SOURCE] --pair I J [--steps K] --out FILE.png"""

from __future__ import annotations

import argparse

import numpy as np

from vaekit.cli.common import add_data_args, data_name, example_text, int_in, load_split, output_path, run_view, wrote
from vaekit.errors import VaekitError
from vaekit.run import load_run
from vaekit.sampling import interpolate


def add_parser(sub) -> None:
    p = sub.add_parser(
        "interpolate", help="decode a straight line between the latent means of two images (or a table's rows)"
    )
    p.add_argument("run_dir", help="the run directory (written by `vaekit train`)")
    add_data_args(p, "the images to interpolate between")
    p.add_argument(
        "--pair", nargs=2, type=int, required=True, metavar=("I", "J"), help="indices of the two images in the split"
    )
    p.add_argument("--steps", type=int_in(2, 1000), default=10, help="images along the path, both ends included")
    p.add_argument(
        "--out", required=True, help="FILE.png to write (a table: FILE.csv, .tsv or .parquet, with a column step)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    view = run_view(args.run_dir)
    out = output_path(args.out, tuple(s for s in view.suffixes if s != ".npy"))
    if args.steps < 2:
        raise VaekitError(f"--steps must be at least 2, got {args.steps}.")
    r = load_run(args.run_dir)
    r.require("latent_vector", "interpolation")
    x, y = load_split(r, args)
    i, j = args.pair
    for k in (i, j):
        if not 0 <= k < x.shape[0]:
            raise VaekitError(
                f"--pair index {k} is out of range: the {args.split} split has {x.shape[0]} "
                f"{r.spec.facts.example_word}s."
            )
    cond = r.labels_of(x[[i, j]], None if y is None else y[[i, j]])
    path = interpolate(r.model, x[i], x[j], args.steps, cond)  # (steps, C, H, W) or (steps, D)
    view.write_examples(r.spec, path, out, {"step": np.arange(args.steps)}, nrow=args.steps)
    word = r.spec.facts.example_word
    what = f"{args.steps} {word}s ({example_text(r)}) from {args.split} {word} {i} to {j} of {data_name(r, args)}"
    wrote(what, out)
    return 0
