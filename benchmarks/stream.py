"""Data larger than memory: a 200k-image 64x64 RGB folder, trained from memory and streamed from disk.

Generates the folder once (smooth random colour fields, PNG, about 1.5 KB each: `--make`), then trains one epoch of
the same model on it twice, each in its own process: `data.stream=false` (all images held in memory as uint8) and
`data.stream=true` (read batch by batch from the cache on disk, built on first use). For each it prints the training
images per second (train images / the epoch's train_seconds from metrics.jsonl), the peak resident memory of the
process (ru_maxrss from wait4), and the load time (wall time before the first epoch starts). Targets (issue 13):
streaming peak RSS under 4 GiB, at no less than 80 % of the in-memory images per second.

    python benchmarks/stream.py --make --images 200000 --folder /tmp/vaekit-bench/rgb64
    python benchmarks/stream.py --folder /tmp/vaekit-bench/rgb64 --out runs/bench-stream
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

from machine import machine_info  # benchmarks/machine.py, beside this script

MODEL = ["model.latent_dim=32", "model.network.hidden=[256]", "train.batch_size=64", "train.progress=false"]


def _write_range(args: tuple[Path, int, int]) -> None:
    folder, start, stop = args
    for i in range(start, stop):
        rng = np.random.default_rng(i)
        coarse = Image.fromarray(rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8))
        coarse.resize((64, 64), Image.Resampling.BICUBIC).save(folder / f"{i // 1000:03d}" / f"{i:06d}.png")


def make_folder(folder: Path, n: int) -> None:
    for k in range((n + 999) // 1000):
        (folder / f"{k:03d}").mkdir(parents=True, exist_ok=True)
    step = 5000
    with Pool(os.cpu_count()) as pool:
        pool.map(_write_range, [(folder, a, min(a + step, n)) for a in range(0, n, step)])


def run_one(folder: Path, out: Path, stream: bool, cache: Path) -> dict:
    cmd = [
        sys.executable, "-m", "vaekit", "train", f"data.source={folder}", f"data.stream={str(stream).lower()}",
        f"data.cache_dir={cache}", "train.epochs=1", *MODEL, "--out", str(out), "--force",
    ]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    first_epoch = None
    lines = []
    for line in proc.stderr:  # type: ignore[union-attr]
        lines.append(line)
        if first_epoch is None and line.startswith("epoch 1/"):
            first_epoch = time.perf_counter() - start
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit("".join(lines[-20:]))
    record = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    n_train = int(next(ln for ln in lines if " train / " in ln).split("data: ")[1].split(" train")[0])
    return {
        "stream": stream,
        "train_images": n_train,
        "train_seconds": record["train_seconds"],
        "images_per_second": n_train / record["train_seconds"],
        "peak_rss_gib": usage.ru_maxrss / 2**20,  # ru_maxrss is in KiB on Linux
        "wall_seconds": time.perf_counter() - start,
        "summary": [ln.strip() for ln in lines if ln.startswith("data: ")],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--folder", type=Path, default=Path("/tmp/vaekit-bench/rgb64"), help="the image folder")
    p.add_argument("--make", action="store_true", help="generate the folder (skipped where it exists)")
    p.add_argument("--images", type=int, default=200_000, help="images to generate with --make")
    p.add_argument("--cache", type=Path, default=Path("/tmp/vaekit-bench/cache"), help="data.cache_dir")
    p.add_argument("--out", type=Path, default=Path("runs/bench-stream"), help="where the runs and results go")
    args = p.parse_args()
    if args.make:
        if not args.folder.exists():
            t = time.perf_counter()
            make_folder(args.folder, args.images)
            print(f"made {args.images} images in {args.folder} in {time.perf_counter() - t:.0f} s")
        return
    args.out.mkdir(parents=True, exist_ok=True)
    results = {"machine": machine_info(), "model": MODEL, "folder": str(args.folder)}
    results["stream_first"] = run_one(args.folder, args.out / "stream", True, args.cache)  # builds the cache
    results["memory"] = run_one(args.folder, args.out / "memory", False, args.cache)
    results["stream"] = run_one(args.folder, args.out / "stream", True, args.cache)  # the cache is built
    ratio = results["stream"]["images_per_second"] / results["memory"]["images_per_second"]
    results["ratio"] = ratio
    for name in ("memory", "stream_first", "stream"):
        r = results[name]
        print(
            f"{name:13s} {r['images_per_second']:8.0f} img/s  peak RSS {r['peak_rss_gib']:.2f} GiB  "
            f"wall {r['wall_seconds']:.0f} s  (train {r['train_seconds']:.0f} s for {r['train_images']} images)"
        )
    print(f"stream / memory images per second: {ratio:.3f}")
    (args.out / "stream.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
