"""vaekit train [CONFIG.yaml] [--preset NAME] [--data SOURCE] ... [key.sub=value ...]"""

from __future__ import annotations

import argparse
import os
import sys

from vaekit.cli.common import SEED, int_in
from vaekit.config import load_config
from vaekit.errors import ConfigError
from vaekit.train.distributed import teardown
from vaekit.workflow.training import resume, train


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model and write a run directory")
    p.add_argument(
        "args",
        nargs="*",
        metavar="CONFIG.yaml | key.sub=value",
        help="a YAML config and dotted overrides (default: none, the built-in defaults and --preset)",
    )
    p.add_argument("--preset", help="a built-in config: seed-mnist, pytorch-example, quickstart, ... (default: none)")
    p.add_argument(
        "--data",
        metavar="SOURCE",
        help="data source: a built-in name or a path, sets data.source (default: the config's, else digits)",
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where built-in data sets are looked for, sets data.data_dir (default: $VAEKIT_DATA, else "
        "~/.cache/vaekit)",
    )
    p.add_argument(
        "--epochs",
        type=int_in(1, 10**7),
        help="number of epochs in all, sets train.epochs (default: the config's; with --resume, the run's)",
    )
    p.add_argument("--seed", type=SEED, help="random seed, sets train.seed (default: the config's, else 0)")
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        help="sets train.device (default: the config's, else cpu; with --resume, the run's)",
    )
    p.add_argument("--out", help="the run directory to write (default: runs/<data>-<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last epoch")
    p.add_argument("--force", action="store_true", help="overwrite an existing run directory")
    p.add_argument("--report", action="store_true", help="write RUN_DIR/report.html at the end (see `vaekit report`)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    finally:
        teardown()  # under torchrun: leave the process group cleanly


def _run(args: argparse.Namespace) -> int:
    configs = [a for a in args.args if "=" not in a]
    overrides = [a for a in args.args if "=" in a]
    if len(configs) > 1:
        raise ConfigError(f"give at most one config file, got {', '.join(configs)}.")
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    if args.resume:
        if not args.out:
            raise ConfigError("--resume needs --out RUN_DIR: the run to continue.")
        if configs or overrides or args.preset or args.data or args.data_dir or args.seed is not None:
            raise ConfigError(
                "--resume continues a run with its own config; only --epochs and --device may change. "
                "Remove the config file, preset, data and override arguments."
            )
        trained = resume(args.out, epochs=args.epochs, device=args.device, log=log)
        return _report(args, trained, log)
    flags = {
        "data.source": args.data,
        "data.data_dir": args.data_dir,
        "train.epochs": args.epochs,
        "train.seed": args.seed,
        "train.device": args.device,
    }
    given = [(k, v) for k, v in flags.items() if v is not None]
    config = load_config(configs[0] if configs else None, preset=args.preset, overrides=given + overrides)
    trained = train(config, args.out, force=args.force, log=log)
    return _report(args, trained, log)


def _report(args: argparse.Namespace, trained, log) -> int:
    """With --report, the run's HTML report, written by the main process only (under torchrun: rank 0)."""
    if args.report and int(os.environ.get("RANK", "0")) == 0:
        from vaekit.report import write_report

        out = write_report(trained, trained.path / "report.html", log=lambda msg: log(f"report: {msg}"))
        log(f"wrote {out}")
    return 0
