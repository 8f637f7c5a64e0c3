"""Writers of tiny data files in the formats vaekit reads, so tests can check exact round trips."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

_IDX_CODES = {np.dtype("uint8"): 0x08, np.dtype("int32"): 0x0C, np.dtype("float32"): 0x0D}


def _maybe_gzip(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def idx_bytes(array: np.ndarray) -> bytes:
    """The idx encoding of `array`: magic (0, 0, dtype code, ndim), big-endian sizes, big-endian values."""
    header = bytes([0, 0, _IDX_CODES[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write `array` as an idx file, gzipped when `path` ends in .gz."""
    return _maybe_gzip(path, idx_bytes(array))


def write_amat(path: Path, rows: np.ndarray, sep: str = " ") -> Path:
    """Write binary rows (N, D) as .amat text, one row per line, gzipped when `path` ends in .gz."""
    text = "".join(sep.join(str(int(v)) for v in row) + "\n" for row in rows)
    return _maybe_gzip(path, text.encode())


def cifar_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """CIFAR-10 binary records: one label byte then 3072 pixel bytes (R, G, B planes) per image."""
    records = np.concatenate([labels.astype(np.uint8)[:, None], images.reshape(len(images), -1)], axis=1)
    return records.astype(np.uint8).tobytes()


def write_cifar_tar(path: Path, batches: dict[str, bytes]) -> Path:
    """A cifar-10-binary.tar.gz holding `batches` (name -> bytes) under cifar-10-batches-bin/."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in batches.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def write_png(path: Path, pixels: np.ndarray) -> Path:
    """Write uint8 pixels (H, W) or (H, W, 3) as a PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tiny_mnist(n_train: int = 6, n_test: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    """Random uint8 images (N, 28, 28) and labels (N,) for train and t10k."""
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_tiny_mnist(folder: Path, arrays: dict[str, np.ndarray], suffix: str = ".gz") -> dict[str, Path]:
    """Write the four idx files of `arrays` into `folder`; returns {file name: path}."""
    return {f"{stem}{suffix}": write_idx(folder / f"{stem}{suffix}", a) for stem, a in arrays.items()}
