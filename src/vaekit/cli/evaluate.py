"""vaekit evaluate RUN_DIR [--data SOURCE] [--split test] [--limit N] [--iw-samples K] [--out FILE.json]"""

from __future__ import annotations

import argparse
import copy
import json
import sys

import torch
from tqdm.auto import tqdm

from vaekit.cli.common import output_path
from vaekit.data import binarize
from vaekit.errors import VaekitError
from vaekit.evaluate.report import likelihood_report
from vaekit.run import load_run
from vaekit.train.checkpoint import atomic_write_text
from vaekit.train.runner import prepare_data

SUMMARY = ("elbo", "log_likelihood", "elbo_gap", "reconstruction", "kl", "bits_per_dim", "active_units")


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="ELBO, importance-weighted log p(x), bits/dim, KL per dim, active units")
    p.add_argument("run_dir")
    p.add_argument("--data", help="a data source (default: the one the run was trained on)")
    p.add_argument("--data-dir", help="where built-in data sets are looked for (default: the run's)")
    p.add_argument("--split", choices=("train", "test"), default="test")
    p.add_argument("--limit", type=int, help="evaluate only the first N examples of the split")
    p.add_argument("--iw-samples", type=int, default=5000, help="importance samples K (default 5000)")
    p.add_argument("--batch-size", type=int, default=100, help="examples per batch (memory, not results)")
    p.add_argument("--seed", type=int, default=0, help="seed of the importance samples and binarization")
    p.add_argument("--out", help="FILE.json for the report")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = output_path(args.out, (".json",)) if args.out else None
    for name in ("iw_samples", "batch_size"):
        if getattr(args, name) < 1:
            raise VaekitError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}.")
    r = load_run(args.run_dir)
    config = copy.deepcopy(r.config)
    if args.data:
        config.data.source = args.data
    if args.data_dir:
        config.data.data_dir = args.data_dir
    # the same data pipeline as training: a static binarization is the same fixed draw
    _, train_x, test_x = prepare_data(config, r.device)
    x = r.check_data(train_x if args.split == "train" else test_x, source=f"data '{config.data.source}'")
    if args.limit is not None:
        x = x[: max(0, args.limit)]
    if x.shape[0] == 0:
        raise VaekitError("there is nothing to evaluate: the split is empty (check --limit).")
    transform = binarize if config.data.binarize == "dynamic" else None
    g = torch.Generator(device=r.device).manual_seed(args.seed)
    with tqdm(total=x.shape[0], desc=f"evaluate (K={args.iw_samples})", unit="ex", disable=None) as bar:
        report = likelihood_report(
            r.model,
            x,
            iw_samples=args.iw_samples,
            batch_size=args.batch_size,
            generator=g,
            transform=transform,
            progress=bar.update,
        )
    report.update(data=config.data.source, split=args.split, binarize=config.data.binarize, seed=args.seed)
    for key in SUMMARY:
        value = report[key]
        print(f"{key:16s} {value:12.4f}" if isinstance(value, float) else f"{key:16s} {value:>12}")
    print(
        f"{'num_examples':16s} {report['num_examples']:>12}   iw_samples {report['iw_samples']}   "
        f"{report['seconds']:.1f} s",
        file=sys.stdout,
    )
    if out:
        atomic_write_text(out, json.dumps(report, indent=2) + "\n")
    return 0
