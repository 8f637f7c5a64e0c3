"""vaekit sample RUN_DIR [-n N] [--seed S] [--temperature T] --out FILE.png|FILE.npy|FILE.txt"""

from __future__ import annotations

import argparse
import sys

import torch

from vaekit.cli.common import (
    COUNT,
    SEED,
    decoding_of,
    example_text,
    generator,
    output_path,
    run_view,
    temperature,
    wrote,
)
from vaekit.errors import VaekitError
from vaekit.run import load_run


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sample", help="generate images (or a table's rows) from the prior (a VQ-VAE: its PixelCNN, after train-prior)"
    )
    p.add_argument("run_dir", help="the run directory (written by `vaekit train`)")
    p.add_argument("-n", type=COUNT, default=64, help="number of samples")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the draws")
    p.add_argument(
        "--label", type=int, help="a conditional model (cvae): draw this class (default: classes 0, 1, ... in turn)"
    )
    p.add_argument(
        "--temperature",
        type=temperature,
        metavar="T",
        help="a text run: each next token drawn from softmax(log p / T); 1 draws from the model itself, below 1 "
        "sharpens, 0 is the greedy decoding (default: 1)",
    )
    p.add_argument(
        "--out",
        required=True,
        help="images: FILE.png (a grid) or FILE.npy (N, C, H, W); a table: FILE.csv, .tsv or .parquet (the table's "
        "columns, in its units) or FILE.npy (N, D, the model's numbers); text: FILE.txt (one sentence a line), .csv, "
        ".tsv or .parquet (a column text) or FILE.npy (N, T token ids)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    view = run_view(args.run_dir)
    out = output_path(args.out, view.suffixes)
    if args.n < 1:
        raise VaekitError(f"-n must be at least 1, got {args.n}.")
    r = load_run(args.run_dir)
    decoding = decoding_of(r, args)
    if args.label is not None:
        r.require("labels", "--label")
        if not 0 <= args.label < r.config.model.num_classes:
            raise VaekitError(f"--label must be in 0..{r.config.model.num_classes - 1}, got {args.label}.")
    if r.prior_note():
        print(f"vaekit sample: note: {r.prior_note()}", file=sys.stderr)
    y = None if args.label is None else torch.full((args.n,), args.label, dtype=torch.int64)
    samples = r.sample(args.n, generator=generator(r, args.seed), y=y, decoding=decoding)  # (n, C, H, W) (n, D) (n, T)
    columns = None
    if r.spec.label is not None and "labels" in r.capabilities:  # a table's class column, as the rows were drawn
        drawn = r.cond(y, args.n)["y"].cpu().numpy()
        columns = {r.spec.label.name: [r.spec.label.categories[k] for k in drawn]}
    view.write_examples(r.spec, samples, out, columns)
    how = "" if decoding is None else f", {decoding.describe()}"
    wrote(f"{args.n} samples ({example_text(r)}{how})", out)
    return 0
