"""Speed on one device (issue 6): seconds per MNIST epoch and the k = 5000 log-likelihood of the test set.

What it measures, in one run on one device (`--device cuda` on a GPU machine; `cpu` works, for a check):

* vaekit: `pytorch-example` and `seed-mnist` trained for `--epochs` epochs each; seconds per epoch are
  `train_seconds + test_seconds` of `metrics.jsonl`, reported for the first epoch (CUDA start-up, kernel
  choice, compilation) and as the median of the others. Targets on a GPU: under 0.5 s.
* the peer: the training loop of the PyTorch VAE example (pytorch/examples, vae/main.py) as that script runs
  it on the same device and data, written out here: MLP 784-400-20, BCE summed over pixels + KL, Adam 1e-3,
  batch 128, a shuffling DataLoader over CPU tensors whose batches are moved to the device one by one (the
  example's MNIST DataLoader, with torchvision's reading replaced by the tensors vaekit reads), a test pass
  per epoch, a `.item()` per batch as the example's logging does. Same timing rule.
* `vaekit evaluate`'s importance-weighted log p(x) of the trained `pytorch-example` run, k = `--iw-samples`
  (default 5000), on the full MNIST test set (10000 images): seconds, nats and bits/dim. Target on a GPU:
  under 30 s.

    VAEKIT_DATA=../shared/data python benchmarks/gpu_speed.py --device cuda --epochs 5 --out gpu_speed.json
    VAEKIT_DATA=../shared/data python benchmarks/gpu_speed.py --device cpu --epochs 2 --eval-limit 100  # check
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import vaekit
from machine import machine_info  # benchmarks/machine.py, beside this script
from vaekit.data import load_data
from vaekit.workflow.evaluation import evaluate_run


def epoch_seconds(per_epoch: list[float]) -> dict[str, float]:
    """First epoch apart (warm-up), the median of the rest."""
    rest = per_epoch[1:] or per_epoch
    return {"first_epoch_s": per_epoch[0], "median_epoch_s": statistics.median(rest), "epochs": len(per_epoch)}


def time_vaekit(preset: str, args: argparse.Namespace, out: Path) -> tuple[dict, Path]:
    overrides = [f"train.epochs={args.epochs}", f"train.device={args.device}", "train.progress=false"]
    if args.precision:
        overrides.append(f"train.precision={args.precision}")
    if args.compile:
        overrides.append("train.compile=true")
    config = vaekit.load_config(preset=preset, overrides=overrides)
    run = vaekit.train(config, out / preset, force=True)
    records = run.metrics()
    result = epoch_seconds([r["train_seconds"] + r["test_seconds"] for r in records])
    result.update(test_elbo=records[-1]["test_elbo"], precision=config.train.precision, compile=args.compile)
    return result, out / preset


class ExampleVAE(nn.Module):
    """The PyTorch example's model: 784-400-20 with ReLU, a sigmoid decoder output."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = F.relu(self.fc1(x.view(-1, 784)))  # (B, 400)
        mu, logvar = self.fc21(h), self.fc22(h)  # (B, 20) each
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar  # (B, 784)


def example_loss(recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    bce = F.binary_cross_entropy(recon, x.view(-1, 784), reduction="sum")
    return bce - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def time_example_loop(args: argparse.Namespace) -> dict:
    device = torch.device(args.device)
    torch.manual_seed(1)
    data = load_data("mnist")
    pin = device.type == "cuda"
    train = DataLoader(TensorDataset(data.train), batch_size=128, shuffle=True, pin_memory=pin)
    test = DataLoader(TensorDataset(data.test), batch_size=128, shuffle=False, pin_memory=pin)
    model = ExampleVAE().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    per_epoch, test_loss = [], 0.0
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.train()
        for (x,) in train:
            x = x.to(device)
            optimizer.zero_grad()
            recon, mu, logvar = model(x)
            loss = example_loss(recon, x, mu, logvar)
            loss.backward()
            loss.item()  # the example logs every batch's loss
            optimizer.step()
        model.eval()
        test_loss = 0.0
        with torch.no_grad():
            for (x,) in test:
                x = x.to(device)
                recon, mu, logvar = model(x)
                test_loss += example_loss(recon, x, mu, logvar).item()
        if device.type == "cuda":
            torch.cuda.synchronize()
        per_epoch.append(time.perf_counter() - start)
    result = epoch_seconds(per_epoch)
    result["test_elbo"] = -test_loss / len(data.test)
    return result


def time_evaluation(run_dir: Path, args: argparse.Namespace) -> dict:
    run = vaekit.load_run(run_dir, device=args.device)
    if args.device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    report = evaluate_run(run, iw_samples=args.iw_samples, limit=args.eval_limit)
    if args.device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    keys = ("log_likelihood", "elbo", "elbo_gap", "bits_per_dim", "num_examples", "iw_samples")
    return {"seconds": seconds, **{k: report[k] for k in keys}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--precision", choices=("fp32", "bf16", "auto"), help="train.precision (default: the preset's)")
    p.add_argument("--compile", action="store_true", help="train.compile=true for vaekit")
    p.add_argument("--iw-samples", type=int, default=5000)
    p.add_argument("--eval-limit", type=int, help="test images to evaluate (default: all 10000)")
    p.add_argument("--out", type=Path, help="write the numbers as JSON here")
    args = p.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: this machine has no CUDA device; use --device cpu for a check run.")
    result: dict = {"settings": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for preset in ("pytorch-example", "seed-mnist"):
            result[preset], run_dir = time_vaekit(preset, args, out)
            print(f"vaekit {preset:16s} {json.dumps(result[preset])}", flush=True)
            if preset == "pytorch-example":
                result["evaluate"] = time_evaluation(run_dir, args)
                print(f"vaekit evaluate k={args.iw_samples:<6d} {json.dumps(result['evaluate'])}", flush=True)
    result["pytorch_example_loop"] = time_example_loop(args)
    print(f"PyTorch example loop    {json.dumps(result['pytorch_example_loop'])}", flush=True)
    result["machine"] = machine_info()
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
