"""DCI's boosted trees on a run's own codes: vaekit's `boosting` against scikit-learn's GradientBoostingClassifier.

    python benchmarks/dci_speed.py RUN                 # a shapes-beta-vae run; both, one after the other
    python benchmarks/dci_speed.py RUN --peer none     # vaekit's only

The codes are those `vaekit evaluate --disentanglement --seed S` scores: the posterior means of its first draw of
`--num-train` factor combinations. Both fit one classifier per factor on the same threads (cores + 1, the
costliest factor first) with the per-factor seeds DCI draws; each factor's seconds are its thread's wall time.
Prints one JSON object: seconds, per-factor seconds, the DCI score and the largest importance difference.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from machine import machine_info  # benchmarks/machine.py, beside this script
from vaekit.data import load_factor_grid
from vaekit.evaluate.boosting import boosted_importance
from vaekit.evaluate.disentanglement import disentanglement_of_importance, usable_cores
from vaekit.run import load_run
from vaekit.workflow.disentanglement import CPU_ENCODE_BATCH, factor_encoder, grid_images, scored_codes


def sklearn_importance(codes: np.ndarray, target: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(random_state=seed).fit(codes, target).feature_importances_


def ours_importance(codes: np.ndarray, target: np.ndarray, seed: int) -> np.ndarray:
    return boosted_importance(codes, target, np.random.default_rng(seed))


def timed_importances(fit, codes: np.ndarray, factors: np.ndarray, seeds: list[int]) -> dict:
    """Importances (D, K) of `fit` per factor on cores + 1 threads, costliest first, with each factor's seconds."""

    def one(k: int) -> tuple[np.ndarray, float]:
        start = time.perf_counter()
        return fit(codes, factors[:, k], seeds[k]), time.perf_counter() - start

    order = sorted(range(factors.shape[1]), key=lambda k: -len(np.unique(factors[:, k])))
    start = time.perf_counter()
    with ThreadPoolExecutor(usable_cores() + 1) as pool:
        done = dict(zip(order, pool.map(one, order), strict=True))
    seconds = time.perf_counter() - start
    importance = np.stack([done[k][0] for k in range(factors.shape[1])], axis=1)
    factor_seconds = [round(done[k][1], 1) for k in sorted(done)]
    return {"importance": importance, "seconds": seconds, "factor_seconds": factor_seconds}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", help="a trained run on a factor grid (shapes-beta-vae)")
    p.add_argument("--num-train", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--peer", choices=("sklearn", "none"), default="sklearn")
    args = p.parse_args()

    run = load_run(args.run)
    grid = load_factor_grid(run.config.data.source)
    encode = factor_encoder(run, grid_images(grid), CPU_ENCODE_BATCH)
    factors, codes, rng = scored_codes(encode, args.num_train, args.seed)  # (N, K), (N, D)
    seeds = [int(rng.integers(2**31)) for _ in range(factors.shape[1])]  # as dci_importance draws them
    peers = {"vaekit": ours_importance, **({"sklearn": sklearn_importance} if args.peer == "sklearn" else {})}
    results = {name: timed_importances(fit, codes, factors, seeds) for name, fit in peers.items()}
    out = {
        name: {
            "seconds": round(r["seconds"], 1),
            "factor_seconds": r["factor_seconds"],
            "dci": disentanglement_of_importance(r["importance"]),
        }
        for name, r in results.items()
    }
    if "sklearn" in results:
        difference = results["vaekit"]["importance"] - results["sklearn"]["importance"]  # (D, K)
        out["max_importance_difference"] = float(np.abs(difference).max())
    print(json.dumps({"run": args.run, **out, "machine": machine_info(torch.get_num_threads())}, indent=1))


if __name__ == "__main__":
    main()
