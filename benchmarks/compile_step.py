"""What torch.compile buys the `pytorch-example` training step on this CPU, and what it costs.

Three ways to run the same epochs of the preset (MLP 784-400-20, Bernoulli, batch 128, Adam 1e-3, MNIST), each
timed per epoch after the same warm start, interleaved so that a noisy machine hurts them alike:

- `eager`: vaekit's training pass (`train_epoch` on the preset's loss module), `train.compile=false`;
- `compiled`: the same with `train.compile=true` (the loss module through torch.compile; dynamo splits the step
  at the seeded noise draws, which it cannot trace);
- `fused bound`: an upper bound for fusion: the same model's loss written with its noise as an input, so that the
  whole loss and its backward compile as one graph with no break (what a graph-break-free vaekit step could get).

Prints seconds per training epoch (min and median over `--epochs`), the first compiled epoch (compile time
included), and after how many steps compiling pays back.

    VAEKIT_DATA=../shared/data python benchmarks/compile_step.py --epochs 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import vaekit
from machine import machine_info  # benchmarks/machine.py, beside this script
from vaekit.train.distributed import seeded_generator
from vaekit.train.loop import train_epoch
from vaekit.workflow.training import prepare


def vaekit_epochs(compile_step: bool, epochs: int) -> list[float]:
    config = vaekit.load_config(preset="pytorch-example", overrides=[f"train.compile={str(compile_step).lower()}"])
    config.train.progress = False
    p = prepare(config)
    times = []
    for epoch in range(1, epochs + 2):  # the first epoch carries the compile time
        r = train_epoch(
            p.stage.loss_module,
            p.stage.optimizer,
            p.stage.train_x,
            batch_size=p.stage.batch_size,
            step=(epoch - 1) * 469,
            shuffle_generator=seeded_generator(p.device, 0, epoch, 0),
            generator=seeded_generator(p.device, 0, epoch, 1),
            transform=p.stage.transform,
            progress=False,
        )
        times.append(r.seconds)
    return times


def bound_epochs(epochs: int) -> list[float]:
    config = vaekit.load_config(preset="pytorch-example")
    p = prepare(config)
    model, x_all = p.model, p.data.train_x
    to_float = p.data.binarization.to_float

    def loss_fn(x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        q = model.posterior(x)
        z = q.loc + q.base_dist.scale * eps  # (B, D)
        elbo = model.likelihood(z).log_prob(x) - q.kl_to_standard_normal().sum(-1)  # (B,)
        return -elbo.mean()

    fn = torch.compile(loss_fn)
    g = torch.Generator().manual_seed(0)
    times = []
    for _ in range(epochs + 1):
        start = time.perf_counter()
        for idx in torch.randperm(len(x_all), generator=g).split(128):
            x = to_float(x_all.index_select(0, idx))
            loss = fn(x, torch.randn(x.shape[0], model.latent_dim, generator=g))
            p.stage.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            p.stage.optimizer.step()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=3, help="timed epochs after the first (which compiles)")
    args = p.parse_args()
    print(machine_info())
    results = {
        "eager": vaekit_epochs(False, args.epochs),
        "compiled": vaekit_epochs(True, args.epochs),
        "fused bound": bound_epochs(args.epochs),
        "eager again": vaekit_epochs(False, args.epochs),
    }
    eager = statistics.median(results["eager"][1:] + results["eager again"][1:])
    for name, times in results.items():
        steady = times[1:]
        print(
            f"{name:12s} first epoch {times[0]:6.2f} s   then min {min(steady):.2f} / median "
            f"{statistics.median(steady):.2f} s per epoch   ({', '.join(f'{t:.2f}' for t in times)})"
        )
    for name in ("compiled", "fused bound"):
        times = results[name]
        saved = (eager - statistics.median(times[1:])) / 469  # seconds per step
        extra = times[0] - statistics.median(times[1:])  # compile time
        when = f"pays back after {extra / saved:,.0f} steps" if saved > 0 else "never pays back (no faster)"
        print(f"{name}: compiling costs {extra:.1f} s, saves {saved * 1e3:.2f} ms per step: {when}")


if __name__ == "__main__":
    main()
