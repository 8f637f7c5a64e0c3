"""vaekit train-prior RUN_DIR [--epochs N] [--device cpu|cuda|auto] [--force | --resume]"""

from __future__ import annotations

import argparse
import sys

from vaekit.cli.common import int_in
from vaekit.errors import VaekitError
from vaekit.workflow.prior import train_prior


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train-prior", help="fit the PixelCNN prior of a VQ-VAE run to its training set's codes (the second stage)"
    )
    p.add_argument("run_dir", help="the VQ-VAE run directory (written by `vaekit train`)")
    p.add_argument(
        "--epochs",
        type=int_in(1, 10**7),
        help="number of epochs in all, sets prior.epochs in the run's config (default: the run's prior.epochs)",
    )
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="where to train (default: the run's train.device)")
    p.add_argument("--force", action="store_true", help="replace an existing prior.safetensors")
    p.add_argument("--resume", action="store_true", help="continue the prior's training from its last epoch")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.epochs is not None and args.epochs < 0:
        raise VaekitError(f"--epochs must be >= 0, got {args.epochs}.")
    train_prior(
        args.run_dir,
        args.epochs,
        device=args.device,
        force=args.force,
        resume=args.resume,
        log=lambda m: print(m, file=sys.stderr),
    )
    return 0
