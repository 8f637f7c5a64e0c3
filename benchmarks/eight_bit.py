"""8-bit MNIST, honestly: a dequantized Gaussian against a discretized logistic mixture, same network and budget.

Both use the `mnist-8bit-dlogistic` conv VAE (2 stride-2 stages, here of 16 and 32 channels, FC 256, 32 latents) on
MNIST's 8-bit pixels (not binarized), each trained for the whole epochs that fit in `--budget-minutes` (measured
on its first epoch, then resumed to that count); only the likelihood head differs:

    gaussian-dequantized   N(mean, sigma^2) per pixel, mean and sigma from the decoder, trained and evaluated on
                           uniformly dequantized pixels; its bits/dim is the density's plus log2(255), an upper
                           bound on the discrete bits/dim (Theis et al. 2016)
    discretized-logistic   a mixture of 5 discretized logistics per pixel over the 256 values (PixelCNN++)

Then bits/dim on a random `--eval-limit` subset of the test set (seed 0, the same for both) with the
importance-weighted log p(x), K = `--iw-samples`. Prints one JSON row per model, writes OUT/eight_bit.json.

    VAEKIT_DATA=../shared/data python benchmarks/eight_bit.py --budget-minutes 6 --out runs/bench-eight-bit
    VAEKIT_DATA=../shared/data python benchmarks/eight_bit.py --budget-minutes 0.2 --eval-limit 20 \
        --iw-samples 10 --out runs/bench-eight-bit-smoke      # a quick check of the script
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from budget import train_for_budget  # benchmarks/budget.py, beside this script
from machine import machine_info  # benchmarks/machine.py, beside this script
from vaekit.workflow.evaluation import evaluate_run

PRESET = "mnist-8bit-dlogistic"
# The preset's network narrowed to 16 and 32 channels, so that K = 1000 importance samples of 1000 test images
# (a million decoder passes per model) take minutes on a 2-core CPU.
NETWORK = ["model.network.channels=[16,32]"]
VARIANTS = {
    "gaussian-dequantized": [
        "model.likelihood.type=gaussian",
        "model.likelihood.learn_sigma=decoder",
        "model.likelihood.sigma=0.1",
    ],
    "discretized-logistic": ["model.likelihood.type=discretized_logistic", "model.likelihood.components=5"],
}
LITERATURE = "flows on 8-bit MNIST (bits/dim): RealNVP ~1.06, Glow ~1.05, FFJORD ~0.99"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--budget-minutes", type=float, default=6.0, help="training time per model")
    p.add_argument("--eval-limit", type=int, default=1000, help="test images, a random subset (seed 0)")
    p.add_argument("--iw-samples", type=int, default=1000)
    p.add_argument("--out", default="runs/bench-eight-bit")
    args = p.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    trained = {
        name: train_for_budget(PRESET, [*NETWORK, *VARIANTS[name]], out / name, args.budget_minutes * 60, name)
        for name in args.variants
    }
    rows = []
    for name, (run, epochs, seconds) in trained.items():  # evaluated after all are trained: the runs are kept
        start = time.perf_counter()
        report = evaluate_run(run, limit=args.eval_limit, iw_samples=args.iw_samples, seed=0)
        row = {
            "model": name,
            "settings": [f"--preset {PRESET}", *NETWORK, *VARIANTS[name]],
            "epochs": epochs,
            "steps": run.metrics()[-1]["step"],
            "train_seconds": round(seconds, 1),
            "bits_per_dim": report["bits_per_dim"],
            "per_dim_unit": report["per_dim_unit"],
            "log_likelihood": report["log_likelihood"],
            "log_likelihood_discrete": report.get("log_likelihood_discrete", report["log_likelihood"]),
            "elbo": report["elbo"],
            "elbo_gap": report["elbo_gap"],
            "kl": report["kl"],
            "active_units": report.get("active_units"),
            "subset": report["subset"],
            "iw_samples": args.iw_samples,
            "eval_seconds": round(time.perf_counter() - start, 1),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        result = {"machine": machine_info(), "literature": LITERATURE, "rows": rows}
        (out / "eight_bit.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
