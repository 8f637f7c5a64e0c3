"""vaekit traverse RUN_DIR [--dims D ...] [--data SOURCE] [--index I] [--steps K] [--range R] --out FILE.png"""

from __future__ import annotations

import argparse

import numpy as np

from vaekit.cli.common import COUNT, add_data_args, example_text, int_in, load_split, output_path, run_view, wrote
from vaekit.errors import VaekitError
from vaekit.evaluate.diagnostics import mean_kl_per_dim
from vaekit.plotting import kl_bar_chart, save_figure
from vaekit.run import load_run
from vaekit.sampling import dims_by_kl, traverse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "traverse",
        help="latent traversals (rows: dimensions by decreasing KL; columns: values from -R to R) and a KL bar chart",
    )
    p.add_argument("run_dir", help="the run directory (written by `vaekit train`)")
    p.add_argument("--dims", type=int, nargs="+", help="latent dimensions to traverse (default: all)")
    add_data_args(p, "the reference image and the images the KL averages over")
    p.add_argument("--index", type=int, default=0, help="the reference image's index in the split")
    p.add_argument("--steps", type=int_in(2, 1000), default=10, help="values per dimension, K")
    p.add_argument("--range", type=float, default=3.0, dest="radius", help="values from -R to R")
    p.add_argument("--kl-examples", type=COUNT, default=1000, help="images the KL per dimension averages over")
    p.add_argument(
        "--out", required=True, help="FILE.png for the traversals (a table: FILE.csv, .tsv or .parquet, one row each)"
    )
    p.add_argument("--kl-out", help="FILE.png for the KL bar chart (default: FILE_kl.png next to --out)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    view = run_view(args.run_dir)
    out = output_path(args.out, tuple(s for s in view.suffixes if s != ".npy"))
    kl_out = output_path(args.kl_out or str(out.with_name(f"{out.stem}_kl.png")), (".png",))
    if args.steps < 2:
        raise VaekitError(f"--steps must be at least 2, got {args.steps}.")
    if not args.radius > 0:
        raise VaekitError(f"--range must be positive, got {args.radius}.")
    if args.kl_examples < 1:
        raise VaekitError(f"--kl-examples must be at least 1, got {args.kl_examples}.")
    r = load_run(args.run_dir)
    r.require("latent_vector", "traversals")
    r.require("kl_per_dim", "traversals (rows ordered by their KL)")
    latent_dim = r.model.latent_dim
    dims = args.dims if args.dims is not None else list(range(latent_dim))
    bad = [d for d in dims if not 0 <= d < latent_dim]
    if bad or len(set(dims)) != len(dims):
        raise VaekitError(
            f"--dims must be distinct latent dimensions in 0..{latent_dim - 1}, got {' '.join(map(str, dims))}."
        )
    x, y = load_split(r, args)
    if not 0 <= args.index < x.shape[0]:
        raise VaekitError(f"--index {args.index} is out of range: the {args.split} split has {x.shape[0]} images.")
    cond = r.labels_of(x, y)
    head = {k: v[: args.kl_examples] for k, v in cond.items()}
    kl = mean_kl_per_dim(r.model, x[: args.kl_examples], r.config.eval.batch_size, head)  # (D,)
    rows = dims_by_kl(kl, dims)
    one = {k: v[args.index : args.index + 1] for k, v in cond.items()}
    images = traverse(r.model, x[args.index], rows, args.steps, args.radius, one)  # (R, K, C, H, W) or (R, K, D)
    values = np.linspace(-args.radius, args.radius, args.steps)
    columns = {"dimension": np.repeat([f"z{d}" for d in rows], args.steps), "value": np.tile(values, len(rows))}
    view.write_examples(r.spec, images.flatten(0, 1), out, columns, nrow=args.steps)
    save_figure(kl_bar_chart(kl.tolist()), kl_out)
    print(f"rows (dimension: KL in nats): {', '.join(f'z{d}: {kl[d]:.2f}' for d in rows)}")
    shown = f"traversals of {len(rows)} dimensions x {args.steps} values ({example_text(r)})"
    wrote(f"{shown} to {out} and the KL per dimension", kl_out)
    return 0
