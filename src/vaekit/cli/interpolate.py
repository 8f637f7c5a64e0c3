"""vaekit interpolate RUN_DIR [--data SOURCE] (--pair I J | --sentences A B) [--steps K] [--decode greedy|beam]
[--beam-width W] --out FILE.png"""

from __future__ import annotations

import argparse

import numpy as np

from vaekit.cli.common import (
    add_data_args,
    add_decoding_args,
    data_name,
    decoding_of,
    example_text,
    int_in,
    load_split,
    output_path,
    run_view,
    wrote,
)
from vaekit.errors import VaekitError
from vaekit.run import load_run
from vaekit.sampling import interpolate, latent_path
from vaekit.views.sequences import encode_texts


def add_parser(sub) -> None:
    p = sub.add_parser(
        "interpolate",
        help="decode a straight line between the latent means of two images (a table's rows; two sentences: Bowman "
        "et al.'s homotopy)",
    )
    p.add_argument("run_dir", help="the run directory (written by `vaekit train`)")
    add_data_args(p, "the images to interpolate between")
    ends = p.add_mutually_exclusive_group(required=True)
    ends.add_argument(
        "--pair",
        nargs=2,
        type=int,
        metavar=("I", "J"),
        help="indices of the two examples in the split (default: none: give --sentences)",
    )
    ends.add_argument(
        "--sentences",
        nargs=2,
        metavar=("A", "B"),
        help="a text run: two typed sentences, read with the run's tokenizer (words outside its vocabulary as <unk>) "
        "(default: none: give --pair)",
    )
    p.add_argument("--steps", type=int_in(2, 1000), default=10, help="examples along the path, both ends included")
    add_decoding_args(p)
    p.add_argument(
        "--out",
        required=True,
        help="FILE.png to write (a table: FILE.csv, .tsv or .parquet, with a column step; text: also FILE.txt, one "
        "sentence a line)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    view = run_view(args.run_dir)
    out = output_path(args.out, tuple(s for s in view.suffixes if s != ".npy"))
    if args.steps < 2:
        raise VaekitError(f"--steps must be at least 2, got {args.steps}.")
    r = load_run(args.run_dir)
    r.require("latent_vector", "interpolation")
    decoding = decoding_of(r, args)
    word = r.spec.facts.example_word
    if args.sentences is not None:
        if r.spec.kind != "sequence":
            raise VaekitError(f"--sentences is for a run on text; run '{r.path}' models {word}s. Give --pair I J.")
        ends = encode_texts(r.spec, args.sentences, ["the first of --sentences", "the second of --sentences"])
        x, y, names = r.check_data(ends), None, "the two given sentences"
        i, j = 0, 1
    else:
        x, y = load_split(r, args)
        i, j = args.pair
        for k in (i, j):
            if not 0 <= k < x.shape[0]:
                raise VaekitError(f"--pair index {k} is out of range: the {args.split} split has {x.shape[0]} {word}s.")
        names = f"{args.split} {word} {i} to {j} of {data_name(r, args)}"
    cond = r.labels_of(x[[i, j]], None if y is None else y[[i, j]])
    if decoding is None:
        path = interpolate(r.model, x[i], x[j], args.steps, cond)  # (steps, C, H, W), (steps, D) or (steps, T)
    else:  # a text run: the homotopy's points read off p(x|z) as asked
        path = r.decode(latent_path(r.model, x[i], x[j], args.steps), decoding)  # (steps, T)
    view.write_examples(r.spec, path, out, {"step": np.arange(args.steps)}, nrow=args.steps)
    how = "" if decoding is None else f", {decoding.describe()}"
    wrote(f"{args.steps} {word}s ({example_text(r)}{how}) from {names}", out)
    return 0
