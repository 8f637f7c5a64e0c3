"""VQ-VAE against the VAE on MNIST under a small CPU budget: reconstruction, codebook usage, sample sharpness.

Trains, on dynamically binarized MNIST, (1) the `seed-mnist` VAE, (2) the `mnist-vqvae` VQ-VAE with dead-code
revival and (3) the same VQ-VAE without revival (objective.revive_every=0), then fits the PixelCNN prior of (2)
(`vaekit train-prior`). On `--eval-limit` test digits drawn at random (seed 0; one fixed binarization, the same
for every model) it reports: reconstruction log-likelihood (nats per digit) and squared error of the decoded
means, an upper bound on bits/dim (-ELBO / (784 ln 2); the VQ-VAE's is reconstruction + prior NLL of the codes),
and for the VQ-VAEs the perplexity and number of unused codes of the test codes. Sharpness: the mean per-pixel
entropy (nats) of the decoded Bernoulli means of `--num-samples` samples: lower is sharper (a blurry grey pixel is
near ln 2 = 0.693).
Entropy cannot tell a sharp digit from sharp noise, so a small MLP digit classifier (784-256-10, trained here for
two epochs on the grayscale training digits) also scores the samples: its mean top-class probability
("confidence") and the perplexity of its predicted-class histogram (10 when every digit class is equally common).
Sample grids go to --images. With --reuse, runs already in --out are loaded instead of trained again.

    VAEKIT_DATA=../shared/data OMP_NUM_THREADS=2 python benchmarks/vqvae.py --out runs/bench-vqvae
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from torch import nn

import vaekit
from machine import machine_info  # benchmarks/machine.py, beside this script
from vaekit.data import binarize
from vaekit.evaluate.codebook import vq_report
from vaekit.evaluate.report import likelihood_report
from vaekit.plotting import image_grid, save_png
from vaekit.workflow.data import load_run_data
from vaekit.workflow.evaluation import random_subset
from vaekit.workflow.prior import train_prior


def bernoulli_entropy(p: torch.Tensor) -> float:
    """Mean over pixels and images of -p ln p - (1-p) ln(1-p), in nats; p (N, C, H, W) Bernoulli means."""
    p = p.double()
    return float(-(torch.special.xlogy(p, p) + torch.special.xlogy(1 - p, 1 - p)).mean())


def train_classifier(x: torch.Tensor, y: torch.Tensor, epochs: int = 2, seed: int = 0) -> nn.Module:
    """A 784-256-10 MLP digit classifier, Adam 1e-3, batch 128; x (N, 1, 28, 28) in [0, 1], y (N,) labels."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Flatten(), nn.Linear(x[0].numel(), 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(x.shape[0], generator=g).split(128):
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return net.eval()


@torch.no_grad()
def classifier_scores(net: nn.Module, images: torch.Tensor) -> dict[str, float]:
    """Mean top-class probability, and exp(entropy) of the predicted-class histogram (1 to 10)."""
    probs = torch.softmax(net(images), dim=1)  # (N, 10)
    counts = torch.bincount(probs.argmax(1), minlength=10).double()
    p = counts / counts.sum()
    return {
        "confidence": float(probs.max(1).values.mean()),
        "class_perplexity": float(torch.exp(-torch.special.xlogy(p, p).sum())),
    }


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vae-epochs", type=int, default=3)
    p.add_argument("--vq-epochs", type=int, default=3)
    p.add_argument("--prior-epochs", type=int, default=2)
    p.add_argument("--eval-limit", type=int, default=2000, help="test digits evaluated")
    p.add_argument("--iw-samples", type=int, default=100, help="importance samples for the VAE's log p(x)")
    p.add_argument("--num-samples", type=int, default=256, help="samples scored for sharpness")
    p.add_argument("--out", default="runs/bench-vqvae")
    p.add_argument("--images", default="docs/images", help="folder for the PNG grids")
    p.add_argument("--reuse", action="store_true", help="load the runs already in --out instead of training")
    p.add_argument("--data", default="mnist", help="data source (default mnist; small sources for a smoke test)")
    p.add_argument("overrides", nargs="*", help="key.sub=value for every run (e.g. a smaller network)")
    args = p.parse_args()
    out, images = Path(args.out), Path(args.images)
    images.mkdir(parents=True, exist_ok=True)
    common = [f"data.source={args.data}", "train.progress=false", "train.num_sample_images=16", *args.overrides]
    configs = {
        "vae": ("seed-mnist", [f"train.epochs={args.vae_epochs}", *common]),
        "vqvae": ("mnist-vqvae", [f"train.epochs={args.vq_epochs}", f"prior.epochs={args.prior_epochs}", *common]),
        "vqvae-no-revival": ("mnist-vqvae", [f"train.epochs={args.vq_epochs}", "objective.revive_every=0", *common]),
    }
    runs, seconds = {}, {}
    for name, (preset, overrides) in configs.items():
        if args.reuse and (out / name / "config.yaml").exists():
            runs[name], seconds[name] = (
                vaekit.load_run(out / name),
                sum(m["train_seconds"] for m in _metrics(out, name)),
            )
            continue
        config = vaekit.load_config(preset=preset, overrides=overrides)
        runs[name], seconds[name] = timed(vaekit.train, config, out / name, force=True)
        print(f"trained {name} in {seconds[name]:.0f} s", flush=True)
    if args.reuse and (out / "vqvae" / "prior.safetensors").exists():
        seconds["prior"] = sum(m["train_seconds"] for m in _metrics(out, "vqvae", "prior_metrics.jsonl"))
    else:
        (out / "vqvae" / "prior.safetensors").unlink(missing_ok=True)
        runs["vqvae"], seconds["prior"] = timed(train_prior, out / "vqvae")
        print(f"trained the PixelCNN prior in {seconds['prior']:.0f} s", flush=True)

    # One fixed binarization of the test digits, shared by every model.
    loaded = load_run_data(runs["vae"].config, torch.device("cpu"))
    data, train_x, test_x = loaded.data, loaded.train_x, loaded.test_x
    subset = random_subset(test_x.shape[0], args.eval_limit, seed=0)  # a random subset: the test set may be sorted
    x = binarize(test_x if subset is None else test_x[subset], torch.Generator().manual_seed(0))
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    rows: dict[str, dict] = {}
    classifier, classifier_seconds = timed(train_classifier, train_x, data.train_labels)
    with torch.no_grad():
        accuracy = float((classifier(test_x).argmax(1) == data.test_labels).double().mean())
    reference = {"test_accuracy": accuracy, "seconds": classifier_seconds}
    reference.update({f"test_digits_{k}": v for k, v in classifier_scores(classifier, test_x).items()})
    reference.update({f"binarized_test_digits_{k}": v for k, v in classifier_scores(classifier, x).items()})
    vae = runs["vae"]
    report = likelihood_report(vae.model, x, iw_samples=args.iw_samples, generator=g(), capabilities=vae.capabilities)
    samples = vae.sample(args.num_samples, g())
    rows["VAE (seed-mnist)"] = {
        "reconstruction_nll": -report["reconstruction"],
        "reconstruction_mse": float((vae.reconstruct(x) - x).pow(2).mean()),
        "neg_elbo": -report["elbo"],
        "bits_per_dim_bound": -report["elbo"] / (math.prod(x.shape[1:]) * math.log(2)),
        "iw_nll": -report["log_likelihood"],
        "sample_entropy": bernoulli_entropy(samples),
        **{f"sample_{k}": v for k, v in classifier_scores(classifier, samples).items()},
        "reconstruction_entropy": bernoulli_entropy(vae.reconstruct(x)),
        "train_seconds": seconds["vae"],
    }
    save_png(image_grid(samples[:64], nrow=8), images / "vae_samples.png")
    for name in ("vqvae", "vqvae-no-revival"):
        run = runs[name]
        report = vq_report(run.model, x)
        history = run.metrics()
        row = {
            "reconstruction_nll": -report["reconstruction"],
            "reconstruction_mse": report["reconstruction_mse"],
            "codebook_perplexity": report["codebook_perplexity"],
            "used_codes": report["codebook_size"] - report["dead_codes"],
            "codebook_size": report["codebook_size"],
            "train_perplexity_by_epoch": [round(m["train_perplexity"], 1) for m in history],
            "train_dead_codes_by_epoch": [round(m["train_dead_codes"], 1) for m in history],
            "reconstruction_entropy": bernoulli_entropy(run.reconstruct(x)),
            "train_seconds": seconds[name],
        }
        if name == "vqvae":
            samples, sample_seconds = timed(run.sample, args.num_samples, g())
            uniform = run.model.decode_codes(
                torch.randint(run.model.num_codes, (args.num_samples, *run.model.code_shape), generator=g())
            )
            row.update(
                prior_nll=report["prior_nll"],
                neg_elbo=-report["elbo"],
                bits_per_dim_bound=report["bits_per_dim"],
                sample_entropy=bernoulli_entropy(samples),
                **{f"sample_{k}": v for k, v in classifier_scores(classifier, samples).items()},
                uniform_code_sample_entropy=bernoulli_entropy(uniform),
                **{f"uniform_code_sample_{k}": v for k, v in classifier_scores(classifier, uniform).items()},
                prior_seconds=seconds["prior"],
                sample_seconds=sample_seconds,
            )
            save_png(image_grid(samples[:64], nrow=8), images / "vqvae_prior_samples.png")
            save_png(image_grid(uniform[:64], nrow=8), images / "vqvae_uniform_code_samples.png")
            pairs = torch.cat([x[:8], run.reconstruct(x[:8]), x[8:16], run.reconstruct(x[8:16])])
            save_png(image_grid(pairs, nrow=8), images / "vqvae_reconstructions.png")
        rows[f"VQ-VAE ({'revival every 100 steps' if name == 'vqvae' else 'no revival'})"] = row
    pairs = torch.cat([x[:8], vae.reconstruct(x[:8]), x[8:16], vae.reconstruct(x[8:16])])
    save_png(image_grid(pairs, nrow=8), images / "vae_reconstructions.png")

    results = {
        "rows": rows,
        "data_entropy_reference": "binary test digits have entropy 0 under this measure",
        "classifier": reference,
        "eval_examples": int(x.shape[0]),
        "args": vars(args),
        "machine": machine_info(),
    }
    (out / "vqvae.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def _metrics(out: Path, name: str, file: str = "metrics.jsonl") -> list[dict]:
    return [json.loads(line) for line in (out / name / file).read_text().splitlines() if line.strip()]


if __name__ == "__main__":
    main()
