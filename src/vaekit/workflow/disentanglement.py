"""Score a trained run's disentanglement on the factor grid of its data (`vaekit evaluate --disentanglement`).

The metrics of `vaekit.evaluate.disentanglement` are pure functions of codes and factors, or of an `encode`
that maps factor indices to codes. Here that callable renders (or reads) the images of the factor
combinations from the grid behind the run's data (`shapes`, `dsprites`) and returns the encoder's posterior
means, in batches. MIG and DCI score the codes of `num_train` combinations drawn uniformly from the grid.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from vaekit.atomic import atomic_write
from vaekit.data import SOURCES, Binarization, load_factor_grid
from vaekit.data.arrays import images_to_tensors
from vaekit.data.shapes import FACTOR_NAMES, FACTOR_SIZES, NUM_IMAGES, grid_factors, grid_items, sample_factors
from vaekit.data.types import FactorGrid
from vaekit.errors import DataError, VaekitError
from vaekit.evaluate.diagnostics import mean_kl_per_dim
from vaekit.evaluate.disentanglement import (
    Encoder,
    beta_vae_score,
    dci_disentanglement,
    factorvae_score,
    mig,
    usable_cores,
)
from vaekit.evaluate.likelihood import elbo_per_example
from vaekit.run import WEIGHTS, Run, file_digest
from vaekit.train.loop import evaluate_batches
from vaekit.workflow.evaluation import data_config, evaluation_split

METRICS = ("mig", "factorvae_score", "beta_vae_score", "dci_disentanglement")
# Images per encoder call on a CPU, where the grid is encoded on one thread per core: a batch's activations then
# stay in the core's cache (the first conv layer's output for 32 shapes images is 4 MB, for 1000 131 MB). On the
# 2-core CPU: 7000 images/s, against 4000 for batches of 64 on torch's two threads (themselves 2.7x faster than
# batches of 1000); the codes are the same bits.
CPU_ENCODE_BATCH = 32


def grid_images(grid: FactorGrid, preload: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """A function from factor indices (M, 5) to the grid's images of them, (M, H, W) in {0, 1}.

    preload: read every image once (dSprites: 3 GB of uint8 for a moment) and keep them bit-packed (377 MB), for
    a grid read from a file, whose `take` would decompress the file again at every call.
    """
    if preload:
        images = grid.take(np.arange(grid.size))[0]  # (N, H, W)
        width = images.shape[-1]
        packed = np.packbits(images, axis=-1)  # (N, H, ceil(W / 8)); nonzero pixels become 1 bits
        del images

        def from_memory(factors: np.ndarray) -> np.ndarray:
            return np.unpackbits(packed[grid_items(factors)], axis=-1, count=width)

        return from_memory

    def rendered(factors: np.ndarray) -> np.ndarray:
        unique, inverse = np.unique(grid_items(factors), return_inverse=True)  # `take` wants sorted items
        return grid.take(unique)[0][inverse]

    return rendered


def factor_encoder(run: Run, images_of: Callable[[np.ndarray], np.ndarray], batch_size: int = 1000) -> Encoder:
    """encode(factor indices (M, 5)) -> posterior means (M, D) of the run's encoder, as float64 numpy arrays."""

    def encode(factors: np.ndarray) -> np.ndarray:
        (x,) = images_to_tensors([(images_of(factors), "the factor grid")])  # (M, 1, H, W) float32, as in training
        return run.encode(x, batch_size).double().cpu().numpy()

    return encode


def grid_code_table(encode: Encoder, chunk: int = 8192, cache: Path | None = None, workers: int = 1) -> Encoder:
    """Encode every combination of the grid once (737280 images), and return `encode` as a lookup in that table.

    Cheaper than encoding on demand when the metrics ask for more images than the grid holds (the literature's
    budget asks for about 2.9 million); the codes are the same posterior means. cache: a .npy file holding the
    table of an earlier call with the same encoder, read when it is there and written (atomically) when not.
    workers: threads that encode chunks side by side, each with one torch thread (for a CPU encoder: small
    convolutions do not split well across cores; see CPU_ENCODE_BATCH).
    """
    table = _read_table(cache)
    if table is None:
        items = np.arange(NUM_IMAGES)
        parts = np.array_split(items, -(-NUM_IMAGES // chunk))
        table = np.concatenate(_encode_parts(encode, parts, workers))  # (NUM_IMAGES, D)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(cache, lambda tmp: tmp.write_bytes(_npy_bytes(table)))

    def lookup(factors: np.ndarray) -> np.ndarray:
        return table[grid_items(factors)]  # (M, D)

    return lookup


def _encode_parts(encode: Encoder, parts: list[np.ndarray], workers: int) -> list[np.ndarray]:
    """encode(grid_factors(part)) for each part of grid items, in order, on `workers` threads of one torch thread."""
    if workers <= 1:
        return [encode(grid_factors(part)) for part in parts]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # torch's setting is the process's; restored below
    try:
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda part: encode(grid_factors(part)), parts))
    finally:
        torch.set_num_threads(threads)


def _npy_bytes(table: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, table)
    return buffer.getvalue()


def _read_table(cache: Path | None) -> np.ndarray | None:
    """The cached table (NUM_IMAGES, D), or None when there is none or it is unreadable or of another shape."""
    try:
        table = np.load(cache, allow_pickle=False) if cache is not None and cache.is_file() else None
    except (OSError, ValueError):
        return None
    return table if table is not None and table.ndim == 2 and len(table) == NUM_IMAGES else None


def grid_cache_path(run: Run, source: str, batch_size: int) -> Path:
    """Where the grid's codes under `run`'s current weights are cached: the user cache, keyed by the weights' sha256,
    the grid, the device, the batch size and torch's version, all that the encoded bits may depend on (never the
    run directory, which only its training process writes)."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    grid = source.partition(":")[0]
    name = f"{file_digest(run.path / WEIGHTS)}-{grid}-{run.device.type}-b{batch_size}-torch{torch.__version__}.npy"
    return root / "vaekit" / "grid-codes" / name


def images_needed(num_train: int, num_eval: int, batch_size: int = 64) -> int:
    """Images the four metrics encode on demand: MIG/DCI codes, beta-VAE pairs, FactorVAE variances and votes."""
    points = num_train + num_eval
    return num_train + points * 2 * batch_size + num_train + points * batch_size


def scored_codes(encode: Encoder, num_train: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
    """The report's first draw: `num_train` factor combinations (num_train, 5), their codes (num_train, D) that
    MIG and DCI score, and the generator, seeded with `seed`, that goes on to DCI and the other metrics."""
    rng = np.random.default_rng(seed)
    factors = sample_factors(num_train, rng)
    return factors, encode(factors), rng


def _no_factors(run: Run, source: str) -> DataError:
    grids = ", ".join(name for name, spec in SOURCES.items() if spec.subset_size is not None)
    return DataError(
        f"--disentanglement needs data with known generative factors, but '{source}' has none (run "
        f"'{run.path}' was trained on '{run.config.data.source}'). Factor data sets: {grids} (or 'name:N'). "
        "Train on one of them, or pass --data shapes to score a run on 1x64x64 images."
    )


@torch.no_grad()
def reconstruction_terms(run: Run, x: torch.Tensor, *, binarization: Binarization, batch_size: int, seed: int) -> dict:
    """Test-split ELBO terms in nats per example (beta = 1, one sample) and the KL of each latent dimension."""
    g = torch.Generator(device=run.device).manual_seed(seed)

    def terms(xb: torch.Tensor) -> dict[str, torch.Tensor]:
        return elbo_per_example(run.model, binarization.draw(xb, g), g)

    report = evaluate_batches(terms, x, batch_size)
    report["kl_per_dim"] = mean_kl_per_dim(run.model, x, batch_size).tolist()
    return report


def disentanglement_report(
    run: Run,
    *,
    data: str | None = None,
    data_dir: str | None = None,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    dci_model: str = "boosting",
    limit: int | None = None,
    batch_size: int = 1000,
    seed: int = 0,
    cache: bool = True,
) -> dict:
    """MIG, FactorVAE, beta-VAE and DCI disentanglement scores of `run`, with test-split reconstruction terms.

    num_train: factor combinations whose codes MIG and DCI score, training points of the beta-VAE and FactorVAE
    classifiers, and the FactorVAE variance sample; num_eval: their evaluation points (disentanglement_lib's
    defaults are 10000 and 5000). dci_model: DCI's classifier (see `dci_importance`). limit: test images for
    the reconstruction terms, a random subset drawn with `seed` (default all). When the metrics need more images
    than the grid holds, every grid image is encoded once and codes are looked up; with `cache`, that table is kept
    in the user cache (`grid_cache_path`) for the next scoring of the same weights.
    """
    if num_train < 10 or num_eval < 1 or batch_size < 1:
        raise VaekitError(
            f"--num-train must be at least 10 and --num-eval and --batch-size at least 1, got {num_train}, "
            f"{num_eval} and {batch_size}."
        )
    run.require("latent_vector", "--disentanglement (scores of the latent means)")
    run.require("kl_per_dim", "--disentanglement (its KL per dimension)")
    if "labels" in run.capabilities:
        raise VaekitError(f"run '{run.path}' is conditioned on labels; the factor grids have none to give it.")
    config = data_config(run, data, data_dir)
    source = config.data.source
    grid = load_factor_grid(source, data_dir=config.data.data_dir, download=config.data.download)
    if grid is None:
        raise _no_factors(run, source)
    x, _, loaded, subset = evaluation_split(run, config, "test", limit, seed)
    start = time.perf_counter()
    spec = SOURCES[source.partition(":")[0]]
    on_cpu = run.device.type == "cpu"
    encode_batch = min(batch_size, CPU_ENCODE_BATCH) if on_cpu else batch_size
    encode = factor_encoder(run, grid_images(grid, preload=bool(spec.files)), encode_batch)
    whole_grid = images_needed(num_train, num_eval) > NUM_IMAGES
    if whole_grid:
        path = grid_cache_path(run, source, encode_batch) if cache else None
        encode = grid_code_table(encode, cache=path, workers=usable_cores() if on_cpu else 1)
    factors, codes, rng = scored_codes(encode, num_train, seed)  # fails here, early, on images of another shape
    report = {
        "mig": mig(codes, factors),
        "dci_disentanglement": dci_disentanglement(codes, factors, rng, dci_model),
        "beta_vae_score": beta_vae_score(encode, FACTOR_SIZES, rng, num_train=num_train, num_eval=num_eval),
        "factorvae_score": factorvae_score(
            encode, FACTOR_SIZES, rng, num_train=num_train, num_eval=num_eval, num_variance_estimate=num_train
        ),
    }
    report.update(reconstruction_terms(run, x, binarization=loaded.binarization, batch_size=batch_size, seed=seed))
    report.update(
        factors=list(FACTOR_NAMES),
        num_train=num_train,
        num_eval=num_eval,
        dci_model=dci_model,
        num_examples=x.shape[0],
        subset=subset,
        whole_grid_encoded=whole_grid,
        split="test",
        data=source,
        seed=seed,
        seconds=time.perf_counter() - start,
    )
    return report
