"""vaekit reconstruct RUN_DIR [--data SOURCE] [-n N] --out FILE.png"""

from __future__ import annotations

import argparse

import torch

from vaekit.cli.common import COUNT, add_data_args, data_name, load_split, output_path, save_images, shape_text, wrote
from vaekit.errors import VaekitError
from vaekit.run import load_run


def add_parser(sub) -> None:
    p = sub.add_parser("reconstruct", help="inputs (odd rows) above their reconstructions (even rows)")
    p.add_argument("run_dir", help="the run directory (written by `vaekit train`)")
    add_data_args(p, "the images to reconstruct")
    p.add_argument("-n", type=COUNT, default=32, help="number of images (the first N of the split)")
    p.add_argument("--out", required=True, help="FILE.png to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = output_path(args.out, (".png",))
    r = load_run(args.run_dir)
    if args.n < 1:
        raise VaekitError(f"-n must be at least 1, got {args.n}.")
    x, y = load_split(r, args)
    x, y = x[: args.n], None if y is None else y[: args.n]
    recon = r.reconstruct(x, y=y)
    per_row = min(8, x.shape[0])
    rows = [t for i in range(0, x.shape[0], per_row) for t in (x[i : i + per_row], recon[i : i + per_row])]
    save_images(torch.cat(rows), out, nrow=per_row)
    what = f"{x.shape[0]} {args.split} images of {data_name(r, args)} above their reconstructions ({shape_text(x)})"
    wrote(what, out)
    return 0
