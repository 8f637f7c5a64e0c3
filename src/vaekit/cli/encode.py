"""vaekit encode RUN_DIR --data SOURCE [--split train|test] --out FILE.npy|FILE.csv"""

from __future__ import annotations

import argparse

import numpy as np

from vaekit.cli.common import add_data_args, load_split, output_path
from vaekit.run import load_run
from vaekit.train.checkpoint import atomic_write


def add_parser(sub) -> None:
    p = sub.add_parser("encode", help="latent means E_q[z|x] of a data split, N x latent_dim")
    p.add_argument("run_dir")
    add_data_args(p)
    p.add_argument("--out", required=True, help="FILE.npy or FILE.csv")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = output_path(args.out, (".npy", ".csv"))
    r = load_run(args.run_dir)
    z = r.encode(load_split(r, args)).cpu().numpy()  # (N, D)
    if out.suffix.lower() == ".npy":
        atomic_write(out, lambda tmp: np.save(open(tmp, "wb"), z))
    else:
        header = ",".join(f"z{i}" for i in range(z.shape[1]))
        atomic_write(out, lambda tmp: np.savetxt(tmp, z, delimiter=",", header=header, comments="", fmt="%.7g"))
    return 0
