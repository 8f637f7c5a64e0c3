"""The real MNIST and binarized MNIST files of the shared data folder, when this machine has them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vaekit.data import load_data

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"  # ../shared/data beside the checkout
needs_shared = pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason=f"no shared data in {SHARED}")


@needs_shared
def test_real_mnist_has_the_official_split_and_label_counts() -> None:
    data = load_data("mnist", data_dir=SHARED, download=False)
    assert (len(data.train), len(data.test), data.shape) == (60000, 10000, (1, 28, 28))
    assert data.train_labels.bincount().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert data.test_labels.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert data.train.dtype == torch.uint8 and data.levels == 256  # held as 8-bit codes, 4x less memory
    assert data.pixels("train").min() == 0 and data.pixels("train").max() == 1 and not data.is_binary


@needs_shared
def test_real_binarized_mnist_is_binary_with_the_fixed_split() -> None:
    data = load_data("binarized-mnist", data_dir=SHARED, download=False)
    assert (len(data.train), len(data.test), data.shape) == (50000, 10000, (1, 28, 28)) and data.is_binary
    assert data.train_labels is None
    npz = load_data(str(SHARED / "binarized_mnist" / "binarized_mnist.npz"))  # the same images, as uint8 {0, 1}
    assert torch.equal(npz.train, data.train) and torch.equal(npz.test, data.test)
