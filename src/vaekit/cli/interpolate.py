"""vaekit interpolate RUN_DIR --data SOURCE --pair I J [--steps K] --out FILE.png"""

from __future__ import annotations

import argparse

from vaekit.cli.common import add_data_args, int_in, load_split, output_path, save_images
from vaekit.errors import VaekitError
from vaekit.run import load_run
from vaekit.sampling import interpolate


def add_parser(sub) -> None:
    p = sub.add_parser("interpolate", help="decode a straight line between the latent means of two images")
    p.add_argument("run_dir")
    add_data_args(p)
    p.add_argument("--pair", nargs=2, type=int, required=True, metavar=("I", "J"), help="indices in the split")
    p.add_argument("--steps", type=int_in(2, 1000), default=10, help="images along the path (default 10)")
    p.add_argument("--out", required=True, help="FILE.png")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = output_path(args.out, (".png",))
    if args.steps < 2:
        raise VaekitError(f"--steps must be at least 2, got {args.steps}.")
    r = load_run(args.run_dir)
    r.require("latent_vector", "interpolation")
    x, y = load_split(r, args)
    i, j = args.pair
    for k in (i, j):
        if not 0 <= k < x.shape[0]:
            raise VaekitError(f"--pair index {k} is out of range: the {args.split} split has {x.shape[0]} images.")
    cond = r.labels_of(x[[i, j]], None if y is None else y[[i, j]])
    save_images(interpolate(r.model, x[i], x[j], args.steps, cond), out, nrow=args.steps)
    return 0
