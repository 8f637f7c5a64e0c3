"""Entry point of the `vaekit` command."""

from __future__ import annotations

import argparse
import sys

from vaekit import __version__
from vaekit.cli import (
    datasets,
    encode,
    evaluate,
    explore,
    impute,
    interpolate,
    reconstruct,
    report,
    sample,
    score,
    train,
    train_prior,
    traverse,
)
from vaekit.cli.common import Parser
from vaekit.errors import VaekitError

SUBCOMMANDS = (
    train,
    train_prior,
    sample,
    reconstruct,
    encode,
    interpolate,
    traverse,
    evaluate,
    impute,
    score,
    report,
    explore,
    datasets,
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="vaekit", description="Train, sample, encode and evaluate VAEs.")
    parser.add_argument("--version", action="version", version=f"vaekit {__version__}", help="print the version")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="`vaekit COMMAND --help` for its arguments"
    )
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status: 0, 2 for bad input (argparse's usage errors included), 130."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse: --help, --version, or a usage error it has already printed
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return args.func(args)
    except VaekitError as exc:
        print(f"vaekit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vaekit {args.command}: interrupted", file=sys.stderr)
        return 130
