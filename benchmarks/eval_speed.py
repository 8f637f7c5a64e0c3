"""Seconds of `vaekit evaluate`'s two slow reports on one trained run, with the numbers they give (issue 15).

    VAEKIT_DATA=../shared/data python benchmarks/eval_speed.py likelihood RUN --limit 1000 --iw-samples 5000
    ... likelihood RUN --fused on      # compile the log-weights whatever the size (off: never; auto: the report's rule)
    python benchmarks/eval_speed.py disentanglement RUN --no-cache        # the grid encoded again
    python benchmarks/eval_speed.py disentanglement RUN --profile dis.prof  # cProfile: where the time goes

`likelihood`: the k-sample importance-weighted log p(x) report of `--limit` random test images (the report's
`seconds` cover the estimate, not loading the data); `disentanglement`: the MIG, FactorVAE, beta-VAE and DCI
report. Prints one JSON object (seconds, wall seconds, the numbers, the machine). To time the code of another
checkout on the same run, put its `src` first on PYTHONPATH: this script uses only the public reports.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import time

import torch

import vaekit.evaluate.likelihood as likelihood
from machine import machine_info  # benchmarks/machine.py, beside this script
from vaekit.run import load_run
from vaekit.workflow.disentanglement import METRICS, disentanglement_report
from vaekit.workflow.evaluation import evaluate_run


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("report", choices=("likelihood", "disentanglement"))
    p.add_argument("run", help="a trained run directory (iwae-paper for likelihood, shapes-beta-vae for the other)")
    p.add_argument("--limit", type=int, default=1000, help="likelihood: random test images")
    p.add_argument("--iw-samples", type=int, default=5000, help="likelihood: importance samples K")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--fused",
        choices=("auto", "on", "off"),
        default="auto",
        help="likelihood: compile the log-weights (auto: "
        "from vaekit.evaluate.likelihood.FUSE_MIN_ELEMENTS decoded values in all, as `vaekit evaluate` does)",
    )
    p.add_argument("--no-cache", action="store_true", help="disentanglement: encode the grid even if it is cached")
    p.add_argument("--profile", help="write cProfile statistics to this file")
    args = p.parse_args()

    run = load_run(args.run)
    if args.fused != "auto":  # the threshold the likelihood report asks `fusing_pays` about
        likelihood.FUSE_MIN_ELEMENTS = 0 if args.fused == "on" else float("inf")

    if args.report == "likelihood":
        report_of = lambda: evaluate_run(run, limit=args.limit, iw_samples=args.iw_samples, seed=args.seed)  # noqa: E731
        keys = ("log_likelihood", "elbo", "num_examples", "iw_samples")
    else:
        options = {"cache": False} if args.no_cache else {}  # an older checkout has no `cache` (and no cache)
        report_of = lambda: disentanglement_report(run, seed=args.seed, **options)  # noqa: E731
        keys = (*METRICS, "reconstruction", "kl", "whole_grid_encoded")
    profile = cProfile.Profile() if args.profile else None
    start = time.perf_counter()
    report = profile.runcall(report_of) if profile else report_of()
    wall = time.perf_counter() - start
    if profile:
        profile.dump_stats(args.profile)
    result = {
        "report": args.report,
        **({"fused": args.fused} if args.report == "likelihood" else {}),
        "run": args.run,
        "seconds": round(report["seconds"], 2),
        "wall_seconds": round(wall, 2),
        **{key: report[key] for key in keys},
        "machine": machine_info(torch.get_num_threads()),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
