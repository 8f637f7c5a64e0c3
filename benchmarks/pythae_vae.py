"""Peer benchmark: train pythae's ``VAE`` on MNIST and report speed and test -ELBO.

What it measures
----------------
pythae's ``VAE`` with the MLP of the PyTorch VAE example (encoder Linear(784, 400) + ReLU, then two
Linear(400, 20) heads for the mean and the log-variance; decoder Linear(20, 400) + ReLU +
Linear(400, 784) + sigmoid), ``reconstruction_loss="bce"``, latent_dim 20, trained on MNIST
intensities in [0, 1] (not binarized) with pythae's own ``BaseTrainer``: batch 128 (train and eval),
Adam with lr 1e-3, no scheduler, the official 10k test set as eval data, CPU only.

* ``seconds_per_epoch``: wall time of the whole ``BaseTrainer.train()`` call divided by the number of
  epochs. That call includes, per epoch, the training pass, pythae's eval pass over the test set and
  its best-model ``deepcopy``; once per run, the seeding/optimizer/output-folder setup and the final
  model save (which pythae always does). The trainer's constructor (data loaders and a one-batch
  "sanity check" forward pass) is not included; it is reported separately as ``setup_seconds``, and
  reading MNIST into pythae ``BaseDataset`` objects as ``load_seconds``.
  A per-epoch breakdown (``train_seconds``, ``eval_seconds``) comes from a timing callback.
* ``test_loss``: computed after training, by this script, with the last-epoch model in eval mode and
  without gradient: the mean over the 10,000 test images of pythae's per-example loss (BCE summed
  over the 784 pixels + analytic KL), i.e. -ELBO in nats per example for a Bernoulli decoder on
  intensities, with one reparameterized sample of z per image (as pythae's forward does; seeded).

pythae's progress bars (tqdm) are disabled by default (``TQDM_DISABLE=1``) to match the vaekit run
(``train.progress=false``); pass ``--progress`` to keep them. Checkpoints are off
(``steps_saving=None``) and the output folder is a temporary directory removed at the end.

The last line on stdout is one JSON object::

    {"peer": "pythae", "version": ..., "epochs": N, "seconds_per_epoch": ..., "test_loss": ..., ...}

Creating the pythae environment (from the repository root; install torch FIRST so that the
local CPU build is used, then pythae constrained to that torch)::

    python3.11 -m venv .bench/pythae-venv
    .bench/pythae-venv/bin/python -m pip install --upgrade pip
    .bench/pythae-venv/bin/python -m pip install torch==2.13.0
    echo "torch==2.13.0" > /tmp/torch-constraint.txt
    .bench/pythae-venv/bin/python -m pip install pythae==0.1.2 -c /tmp/torch-constraint.txt

Running it (normally it is started by ``benchmarks/train_speed.py``)::

    .bench/pythae-venv/bin/python benchmarks/pythae_vae.py --data-dir /work/shared/data --epochs 10
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049


def read_idx(path: Path) -> np.ndarray:
    """Read a gzipped MNIST idx file (images: magic 2051, labels: magic 2049) into a uint8 array."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    if magic == IDX_IMAGES_MAGIC:
        n, rows, cols = np.frombuffer(raw, dtype=">u4", count=3, offset=4)
        shape: tuple[int, ...] = (int(n), int(rows), int(cols))
        offset = 16
    elif magic == IDX_LABELS_MAGIC:
        shape = (int(np.frombuffer(raw, dtype=">u4", count=1, offset=4)[0]),)
        offset = 8
    else:
        raise ValueError(f"{path}: not an MNIST idx file (magic {magic})")
    data = np.frombuffer(raw, dtype=np.uint8, offset=offset)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: expected {int(np.prod(shape))} values, found {data.size}")
    return data.reshape(shape)


def find_mnist_dir(data_dir: Path) -> Path:
    """Accept either the folder holding the four idx files or its parent (``<data_dir>/mnist``)."""
    for candidate in (data_dir, data_dir / "mnist"):
        if all((candidate / name).is_file() for name in MNIST_FILES.values()):
            return candidate
    raise FileNotFoundError(f"MNIST idx .gz files not found in {data_dir} or {data_dir / 'mnist'}")


def load_mnist(data_dir: Path) -> dict[str, np.ndarray]:
    """Images as float32 (N, 784) intensities in [0, 1]; labels as int64."""
    mnist_dir = find_mnist_dir(data_dir)
    out: dict[str, np.ndarray] = {}
    for key, name in MNIST_FILES.items():
        arr = read_idx(mnist_dir / name)
        if key.endswith("images"):
            out[key] = arr.reshape(arr.shape[0], -1).astype(np.float32) / 255.0
        else:
            out[key] = arr.astype(np.int64)
    return out


def build_model(latent_dim: int, hidden: int = 400, input_dim: int = 784) -> Any:
    """pythae ``VAE`` with the PyTorch-example MLP as custom encoder and decoder."""
    import torch
    from pythae.models import VAE, VAEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder
    from torch import nn

    class ExampleEncoder(BaseEncoder):
        def __init__(self) -> None:
            BaseEncoder.__init__(self)
            self.fc1 = nn.Linear(input_dim, hidden)
            self.fc21 = nn.Linear(hidden, latent_dim)
            self.fc22 = nn.Linear(hidden, latent_dim)

        def forward(self, x: torch.Tensor) -> ModelOutput:
            h = torch.relu(self.fc1(x.reshape(x.shape[0], -1)))
            return ModelOutput(embedding=self.fc21(h), log_covariance=self.fc22(h))

    class ExampleDecoder(BaseDecoder):
        def __init__(self) -> None:
            BaseDecoder.__init__(self)
            self.fc3 = nn.Linear(latent_dim, hidden)
            self.fc4 = nn.Linear(hidden, input_dim)

        def forward(self, z: torch.Tensor) -> ModelOutput:
            h = torch.relu(self.fc3(z))
            return ModelOutput(reconstruction=torch.sigmoid(self.fc4(h)))

    config = VAEConfig(input_dim=(input_dim,), latent_dim=latent_dim, reconstruction_loss="bce")
    return VAE(model_config=config, encoder=ExampleEncoder(), decoder=ExampleDecoder())


def make_timing_callback() -> Any:
    """A pythae ``TrainingCallback`` that records wall-clock timestamps of the trainer's events."""
    from pythae.trainers.training_callbacks import TrainingCallback

    class TimingCallback(TrainingCallback):
        def __init__(self) -> None:
            self.events: list[tuple[str, float]] = []
            self.eval_losses: list[float] = []
            self.train_losses: list[float] = []

        def _mark(self, name: str) -> None:
            self.events.append((name, time.perf_counter()))

        def on_train_begin(self, training_config: Any, **kwargs: Any) -> None:
            self._mark("train_begin")

        def on_epoch_begin(self, training_config: Any, **kwargs: Any) -> None:
            self._mark("epoch_begin")

        def on_eval_step_begin(self, training_config: Any, **kwargs: Any) -> None:
            self._mark("eval_begin")

        def on_epoch_end(self, training_config: Any, **kwargs: Any) -> None:
            self._mark("epoch_end")

        def on_log(self, training_config: Any, logs: dict[str, float], **kwargs: Any) -> None:
            self._mark("log")
            self.train_losses.append(float(logs.get("train_epoch_loss", float("nan"))))
            self.eval_losses.append(float(logs.get("eval_epoch_loss", float("nan"))))

        def on_train_end(self, training_config: Any, **kwargs: Any) -> None:
            self._mark("train_end")

        def per_epoch(self) -> list[dict[str, float]]:
            """Train pass = epoch_begin -> eval_begin; eval pass (+ best-model copy) -> epoch_end."""
            rows: list[dict[str, float]] = []
            start = eval_start = None
            for name, t in self.events:
                if name == "epoch_begin":
                    start = t
                elif name == "eval_begin":
                    eval_start = t
                elif name == "epoch_end" and start is not None and eval_start is not None:
                    rows.append({"train_seconds": eval_start - start, "eval_seconds": t - eval_start})
                    start = eval_start = None
            return rows

    return TimingCallback()


def evaluate(model: Any, images: np.ndarray, batch_size: int, seed: int) -> dict[str, float]:
    """Mean over the test set of pythae's per-example loss, split into reconstruction and KL."""
    import torch
    from pythae.data.datasets import DatasetOutput

    model.eval()
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    total = recon = kl = 0.0
    n = images.shape[0]
    with torch.no_grad():
        for i in range(0, n, batch_size):
            x = torch.from_numpy(images[i : i + batch_size])
            out = model(DatasetOutput(data=x))
            b = x.shape[0]
            # pythae's VAE returns batch means; scale back to sums for an exact mean over all examples.
            total += float(out.loss) * b
            recon += float(out.recon_loss) * b
            kl += float(out.reg_loss) * b
    torch.random.set_rng_state(gen_state)
    return {"loss": total / n, "reconstruction": recon / n, "kl": kl / n}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path("/work/shared/data"),
        help="folder with mnist/ (or the folder holding the four idx .gz files)",
    )
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--latent-dim", type=int, default=20)
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch.set_num_threads (default: $OMP_NUM_THREADS, else all usable cores)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--progress", action="store_true", help="keep pythae's tqdm progress bars")
    p.add_argument("--limit", type=int, default=None, help="use only the first N train and test images (smoke tests)")
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error("--epochs must be at least 1")
    return args


def default_threads() -> int:
    env = os.environ.get("OMP_NUM_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    threads = args.threads or default_threads()
    os.environ["OMP_NUM_THREADS"] = str(threads)
    if not args.progress:
        os.environ["TQDM_DISABLE"] = "1"  # read by tqdm when it is imported (through pythae below)

    import torch
    from pythae.data.datasets import BaseDataset
    from pythae.trainers import BaseTrainer, BaseTrainerConfig

    torch.set_num_threads(threads)
    t_load = time.perf_counter()
    data = load_mnist(args.data_dir)
    if args.limit:
        data = {k: v[: args.limit] for k, v in data.items()}
    train_set = BaseDataset(torch.from_numpy(data["train_images"]), torch.from_numpy(data["train_labels"]))
    test_set = BaseDataset(torch.from_numpy(data["test_images"]), torch.from_numpy(data["test_labels"]))
    load_seconds = time.perf_counter() - t_load

    torch.manual_seed(args.seed)
    model = build_model(args.latent_dim)
    timing = make_timing_callback()

    with tempfile.TemporaryDirectory(prefix="pythae-bench-") as tmp:
        config = BaseTrainerConfig(
            output_dir=tmp,
            num_epochs=args.epochs,
            per_device_train_batch_size=args.batch_size,
            per_device_eval_batch_size=args.batch_size,
            learning_rate=args.lr,
            optimizer_cls="Adam",
            optimizer_params=None,
            scheduler_cls=None,
            scheduler_params=None,
            steps_saving=None,
            steps_predict=None,
            seed=args.seed,
            no_cuda=True,
        )
        t0 = time.perf_counter()
        trainer = BaseTrainer(
            model=model,
            train_dataset=train_set,
            eval_dataset=test_set,
            training_config=config,
            callbacks=[timing],
        )
        t1 = time.perf_counter()
        trainer.train()
        t2 = time.perf_counter()
        final_dir = Path(trainer.training_dir) / "final_model"
        saved_files = sorted(p.name for p in final_dir.iterdir()) if final_dir.is_dir() else []

    train_call_seconds = t2 - t1
    epochs_timing = timing.per_epoch()
    test = evaluate(trainer.model, data["test_images"], batch_size=1000, seed=args.seed)
    best = getattr(trainer, "_best_model", None)
    best_test = evaluate(best, data["test_images"], 1000, args.seed) if best is not None else None

    result: dict[str, Any] = {
        "peer": "pythae",
        "version": metadata.version("pythae"),
        "epochs": args.epochs,
        "seconds_per_epoch": train_call_seconds / args.epochs,
        "test_loss": test["loss"],
        "test_reconstruction": test["reconstruction"],
        "test_kl": test["kl"],
        # pythae keeps (and saves) the epoch with the lowest eval loss; eval data is the test set here.
        "best_model_test_loss": None if best_test is None else best_test["loss"],
        "train_call_seconds": train_call_seconds,
        "setup_seconds": t1 - t0,
        "load_seconds": load_seconds,
        "train_seconds_per_epoch": float(np.mean([e["train_seconds"] for e in epochs_timing])),
        "eval_seconds_per_epoch": float(np.mean([e["eval_seconds"] for e in epochs_timing])),
        "epoch_timing": epochs_timing,
        "pythae_train_epoch_loss": timing.train_losses,
        "pythae_eval_epoch_loss": timing.eval_losses,
        "final_model_files": saved_files,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "latent_dim": args.latent_dim,
        "n_train": int(data["train_images"].shape[0]),
        "n_test": int(data["test_images"].shape[0]),
        "torch_version": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": sys.version.split()[0],
        "progress_bars": bool(args.progress),
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
