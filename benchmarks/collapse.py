"""Posterior collapse on MNIST: a plain VAE against KL warm-up and free bits, measured.

Each variant trains the `iwae-paper` network (MLP 784-200-200-50 tanh, 50 latents, Bernoulli, dynamically
binarized MNIST) with a larger batch (100) and a constant learning rate for `--epochs` epochs, then reports on
`--eval-limit` test digits: the ELBO, the importance-weighted log p(x) (K = `--iw-samples`), the gap, the KL,
the number of active units (Cov_x E_q[z_d] > 0.01) and the KL of each latent dimension.

    VAEKIT_DATA=../shared/data python benchmarks/collapse.py --epochs 20 --out runs/bench-collapse
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import vaekit
from vaekit.workflow.evaluation import evaluate_run

VARIANTS = {
    "plain": [],
    "warm-up (10 epochs)": ["objective.warmup_epochs=10"],
    "free bits (0.25 nats/dim)": ["objective.free_bits=0.25"],
    "beta = 4": ["objective.beta=4"],
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--eval-limit", type=int, default=1000)
    p.add_argument("--iw-samples", type=int, default=1000)
    p.add_argument("--out", default="runs/bench-collapse")
    args = p.parse_args()
    rows = {}
    for name, extra in VARIANTS.items():
        config = vaekit.load_config(
            preset="iwae-paper",
            overrides=[
                f"train.epochs={args.epochs}",
                "train.batch_size=100",
                "train.lr_schedule=constant",
                "train.progress=false",
                *extra,
            ],
        )
        start = time.perf_counter()
        run = vaekit.train(config, Path(args.out) / name.split(" ")[0], force=True)
        train_seconds = time.perf_counter() - start
        report = evaluate_run(run, limit=args.eval_limit, iw_samples=args.iw_samples)
        kl_dims = sorted(report["kl_per_dim"], reverse=True)
        rows[name] = {
            "neg_elbo": -report["elbo"],
            "nll": -report["log_likelihood"],
            "gap": report["elbo_gap"],
            "kl": report["kl"],
            "active_units": report["active_units"],
            "dims_with_kl_over_0.1": sum(k > 0.1 for k in kl_dims),
            "kl_per_dim_sorted": [round(k, 3) for k in kl_dims],
            "train_seconds": round(train_seconds, 1),
        }
        print(
            f"{name:28s} -ELBO {rows[name]['neg_elbo']:7.2f}  NLL {rows[name]['nll']:7.2f}  "
            f"gap {rows[name]['gap']:5.2f}  KL {rows[name]['kl']:6.2f}  active {report['active_units']:2d}/50  "
            f"({train_seconds:.0f} s)",
            flush=True,
        )
    Path(args.out).mkdir(parents=True, exist_ok=True)
    Path(args.out, "collapse.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
