"""Byte-format readers: exact round trips, and a DataError naming the file for every kind of damage."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from vaekit.data.formats import CIFAR_TEST_BATCH, CIFAR_TRAIN_BATCHES, read_amat, read_cifar_binary, read_idx
from vaekit.errors import DataError

from .writers import cifar_bytes, idx_bytes, write_amat, write_cifar_tar, write_idx


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4),
        np.array([7, 0, 9], dtype=np.uint8),
        np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2),
        np.array([[1, -2], [70000, 3]], dtype=np.int32),
    ],
)
def test_idx_round_trip_is_exact(tmp_path: Path, suffix: str, array: np.ndarray) -> None:
    path = write_idx(tmp_path / f"a-images-idx3-ubyte{suffix}", array)
    back = read_idx(path)
    assert back.dtype == array.dtype.newbyteorder("=") and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x08\x03\x00\x00" + bytes(20), "does not start with an idx header"),
        (idx_bytes(np.zeros((2, 3), np.uint8))[:-1], "takes 18 bytes, but it has 17 bytes"),
        (idx_bytes(np.zeros((2, 3), np.uint8)) + b"\0", "takes 18 bytes, but it has 19 bytes"),
        (b"\0\0\x08\x03\0\0", "ends inside the idx header"),
        (b"", "does not start with an idx header"),
    ],
    ids=["wrong-magic", "one-byte-short", "one-byte-too-many", "cut-header", "empty"],
)
def test_damaged_idx_names_the_file(tmp_path: Path, data: bytes, words: str) -> None:
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(data)
    with pytest.raises(DataError, match=words) as err:
        read_idx(path)
    assert str(path) in str(err.value) and "download it again" in str(err.value)


def test_truncated_gzip_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.ones((50, 28, 28), np.uint8)))[:-20])
    with pytest.raises(DataError, match="gzip") as err:
        read_idx(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("name", ["x.amat", "x.amat.gz"])
@pytest.mark.parametrize("row_length", [12, None])
def test_amat_round_trip_is_exact(tmp_path: Path, name: str, row_length: int | None) -> None:
    rows = np.random.default_rng(0).integers(0, 2, (5, 12))
    back = read_amat(write_amat(tmp_path / name, rows), row_length=row_length)
    assert back.dtype == bool and back.shape == (5, 12)
    np.testing.assert_array_equal(back, rows)


def test_amat_with_other_whitespace_reads_the_same_values(tmp_path: Path) -> None:
    rows = np.random.default_rng(1).integers(0, 2, (4, 9))
    text = "\n".join("\t".join(str(v) for v in row) + "  \r" for row in rows) + "\n\n"  # no final newline needed
    path = tmp_path / "x.amat"
    path.write_text(text)
    np.testing.assert_array_equal(read_amat(path, row_length=9), rows)


def test_amat_with_a_short_row_names_the_file_and_line(tmp_path: Path) -> None:
    rows = np.ones((4, 10), dtype=int)
    path = write_amat(tmp_path / "binarized_mnist_train.amat", rows)
    path.write_bytes(path.read_bytes()[:-7])  # the last row loses 3 values
    with pytest.raises(DataError, match="line 4 holds 7 values but every row must hold 10") as err:
        read_amat(path, row_length=10)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(("text", "words"), [("0 1 0.5\n", "holds the byte b'.'"), ("0 1 10\n", "other than 0 or 1")])
def test_amat_with_other_numbers_names_the_file(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "x.amat"
    path.write_text(text)
    with pytest.raises(DataError, match=words) as err:
        read_amat(path)
    assert str(path) in str(err.value)


def test_empty_amat_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "x.amat"
    path.write_text("\n\n")
    with pytest.raises(DataError, match="no rows") as err:
        read_amat(path)
    assert str(path) in str(err.value)


def _cifar_batches(n: int = 2, seed: int = 0) -> tuple[dict[str, bytes], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    names = [*CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH]
    images = rng.integers(0, 256, (len(names) * n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, len(names) * n, dtype=np.uint8)
    batches = {
        name: cifar_bytes(images[i * n : (i + 1) * n], labels[i * n : (i + 1) * n]) for i, name in enumerate(names)
    }
    return batches, images, labels


def test_cifar_tar_round_trip_is_exact(tmp_path: Path) -> None:
    batches, images, labels = _cifar_batches()
    x_train, y_train, x_test, y_test = read_cifar_binary(write_cifar_tar(tmp_path / "c.tar.gz", batches))
    assert x_train.shape == (10, 3, 32, 32) and x_test.shape == (2, 3, 32, 32)
    np.testing.assert_array_equal(x_train, images[:10])  # data_batch_1..5, in order
    np.testing.assert_array_equal(y_train, labels[:10])
    np.testing.assert_array_equal(x_test, images[10:])
    np.testing.assert_array_equal(y_test, labels[10:])


def test_cifar_extracted_folder_reads_like_the_tar(tmp_path: Path) -> None:
    batches, images, _ = _cifar_batches()
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name, data in batches.items():
        (folder / name).write_bytes(data)
    x_train, _, x_test, _ = read_cifar_binary(folder)
    np.testing.assert_array_equal(np.concatenate([x_train, x_test]), images)


def test_cifar_batch_cut_short_names_the_batch(tmp_path: Path) -> None:
    batches, _, _ = _cifar_batches()
    batches["data_batch_3.bin"] = batches["data_batch_3.bin"][:-100]
    path = write_cifar_tar(tmp_path / "cifar-10-binary.tar.gz", batches)
    with pytest.raises(DataError, match="whole number") as err:
        read_cifar_binary(path)
    assert f"{path}[data_batch_3.bin]" in str(err.value)


def test_cifar_tar_missing_a_batch_names_it(tmp_path: Path) -> None:
    batches, _, _ = _cifar_batches()
    del batches["test_batch.bin"]
    path = write_cifar_tar(tmp_path / "cifar-10-binary.tar.gz", batches)
    with pytest.raises(DataError, match="lacks test_batch.bin") as err:
        read_cifar_binary(path)
    assert str(path) in str(err.value)


def test_truncated_cifar_tar_names_the_file(tmp_path: Path) -> None:
    batches, _, _ = _cifar_batches(n=20)
    path = write_cifar_tar(tmp_path / "cifar-10-binary.tar.gz", batches)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError) as err:
        read_cifar_binary(path)
    assert str(path) in str(err.value)
