"""vaekit encode RUN_DIR [--data SOURCE] [--split train|test] --out FILE.npy|FILE.csv"""

from __future__ import annotations

import argparse

import numpy as np

from vaekit.atomic import atomic_save_npy, atomic_write
from vaekit.cli.common import add_data_args, data_name, load_split, output_path, wrote
from vaekit.run import load_run


def add_parser(sub) -> None:
    p = sub.add_parser(
        "encode", help="latent means E_q[z|x] of a data split, N x latent_dim (a VQ-VAE: code indices, N x h x w)"
    )
    p.add_argument("run_dir", help="the run directory (written by `vaekit train`)")
    add_data_args(p, "the images to encode")
    p.add_argument("--out", required=True, help="FILE.npy or FILE.csv (one row per image) to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = output_path(args.out, (".npy", ".csv"))
    r = load_run(args.run_dir)
    x, y = load_split(r, args)
    codes = "codes" in r.capabilities  # a discrete latent grid: its code maps are the features
    z = (r.encode_codes(x) if codes else r.encode(x, y=y)).cpu().numpy()  # code maps (N, h, w), or (N, D)
    if out.suffix.lower() == ".npy":
        atomic_save_npy(out, z)
    elif z.ndim == 3:  # one row per image, the code map in raster order
        header = ",".join(f"c{i}_{j}" for i in range(z.shape[1]) for j in range(z.shape[2]))
        rows = z.reshape(z.shape[0], -1)
        atomic_write(out, lambda tmp: np.savetxt(tmp, rows, delimiter=",", header=header, comments="", fmt="%d"))
    elif r.spec.kind == "table":  # features keyed by the row's position in the split
        rows = np.column_stack([np.arange(z.shape[0]), z])
        header = ",".join(["row", *(f"z{i}" for i in range(z.shape[1]))])
        fmt = ["%d"] + ["%.7g"] * z.shape[1]
        atomic_write(out, lambda tmp: np.savetxt(tmp, rows, delimiter=",", header=header, comments="", fmt=fmt))
    else:
        header = ",".join(f"z{i}" for i in range(z.shape[1]))
        atomic_write(out, lambda tmp: np.savetxt(tmp, z, delimiter=",", header=header, comments="", fmt="%.7g"))
    what = "code maps" if codes else "latent means"
    word = r.spec.facts.example_word
    wrote(
        f"the {what} of {z.shape[0]} {args.split} {word}s of {data_name(r, args)} ({' x '.join(map(str, z.shape))})",
        out,
    )
    return 0
