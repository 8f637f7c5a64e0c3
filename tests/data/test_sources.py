"""Built-in sources: the registry, digits, default folders, and each built-in read from tiny local files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vaekit.data import SOURCES, SourceInfo, default_data_dir, list_sources, load_data
from vaekit.data.formats import CIFAR_TEST_BATCH, CIFAR_TRAIN_BATCHES
from vaekit.errors import DataError

from .writers import cifar_bytes, tiny_mnist, write_amat, write_cifar_tar, write_tiny_mnist


@pytest.fixture(scope="module")
def digits():
    return load_data("digits")


def test_digits_are_8x8_in_unit_range_with_labels(digits) -> None:
    assert digits.shape == (1, 8, 8) and digits.pixels("train").dtype == torch.float32
    assert digits.pixels("train").min() == 0 and digits.pixels("train").max() == 1 and not digits.is_binary
    assert len(digits.train) + len(digits.test) == 1797
    assert set(digits.train_labels.tolist()) == set(range(10))


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5])
def test_digits_split_sizes_follow_test_fraction(fraction: float) -> None:
    data = load_data("digits", test_fraction=fraction)
    assert len(data.test) == round(1797 * fraction) and len(data.train) == 1797 - round(1797 * fraction)


def test_digits_split_depends_only_on_split_seed(digits) -> None:
    same, other = load_data("digits", split_seed=0), load_data("digits", split_seed=1)
    assert torch.equal(same.test, digits.pixels("test")) and torch.equal(same.test_labels, digits.test_labels)
    assert not torch.equal(other.test, digits.pixels("test"))


def test_list_sources_has_one_entry_per_builtin(tmp_path: Path) -> None:
    infos = list_sources(tmp_path)
    assert (
        [i.name for i in infos]
        == list(SOURCES)
        == ["digits", "mnist", "fashion-mnist", "binarized-mnist", "cifar10", "shapes", "dsprites"]
    )
    by_name = {i.name: i for i in infos}
    assert by_name["digits"] == SourceInfo("digits", by_name["digits"].description, None, (), True)
    assert by_name["binarized-mnist"].directory == tmp_path / "binarized_mnist"
    assert not by_name["mnist"].present and "train-images-idx3-ubyte.gz" in by_name["mnist"].files
    assert by_name["mnist"].downloadable and not by_name["dsprites"].downloadable
    write_tiny_mnist(tmp_path / "mnist", tiny_mnist())
    assert {i.name: i.present for i in list_sources(tmp_path)}["mnist"]


def test_default_data_dir_prefers_vaekit_data_then_xdg_then_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VAEKIT_DATA", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "a"
    monkeypatch.delenv("VAEKIT_DATA")
    assert default_data_dir() == tmp_path / "xdg" / "vaekit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home" / ".cache" / "vaekit"


def test_data_dir_defaults_to_vaekit_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_tiny_mnist(tmp_path / "mnist", tiny_mnist())
    monkeypatch.setenv("VAEKIT_DATA", str(tmp_path))
    assert len(load_data("mnist", download=False).train) == 6


@pytest.mark.parametrize("source", ["mnist", "fashion-mnist"])
@pytest.mark.parametrize("suffix", [".gz", ""])
def test_idx_builtins_read_their_folder(tmp_path: Path, source: str, suffix: str) -> None:
    arrays = tiny_mnist(seed=3)
    write_tiny_mnist(tmp_path / source, arrays, suffix)
    data = load_data(source, data_dir=tmp_path, download=False, test_fraction=0.5)  # official split: ignored
    assert (len(data.train), len(data.test)) == (6, 4)
    assert torch.equal(data.pixels("train")[:, 0], torch.from_numpy(arrays["train-images-idx3-ubyte"] / 255).float())
    assert data.train_labels.tolist() == arrays["train-labels-idx1-ubyte"].tolist()


def test_binarized_mnist_reads_amat_gz_and_is_binary(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    train, test = rng.integers(0, 2, (5, 784)), rng.integers(0, 2, (3, 784))
    write_amat(tmp_path / "binarized_mnist" / "binarized_mnist_train.amat.gz", train)
    write_amat(tmp_path / "binarized_mnist" / "binarized_mnist_test.amat", test)
    data = load_data("binarized-mnist", data_dir=tmp_path, download=False)
    assert data.is_binary and data.shape == (1, 28, 28) and data.train_labels is None
    assert torch.equal(data.pixels("test").reshape(3, 784), torch.from_numpy(test).float())


def test_binarized_mnist_with_wrong_row_length_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "binarized_mnist"
    write_amat(folder / "binarized_mnist_train.amat", np.zeros((2, 784), int))
    bad = write_amat(folder / "binarized_mnist_test.amat", np.zeros((2, 100), int))
    with pytest.raises(DataError, match="line 1 holds 100 values but every row must hold 784") as err:
        load_data("binarized-mnist", data_dir=tmp_path, download=False)
    assert str(bad) in str(err.value)


def test_cifar10_reads_the_binary_tar(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 3, 32, 32), dtype=np.uint8)
    labels = np.arange(12) % 10
    names = [*CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH]
    batches = {n: cifar_bytes(images[2 * i : 2 * i + 2], labels[2 * i : 2 * i + 2]) for i, n in enumerate(names)}
    write_cifar_tar(tmp_path / "cifar10" / "cifar-10-binary.tar.gz", batches)
    data = load_data("cifar10", data_dir=tmp_path, download=False)
    assert data.shape == (3, 32, 32) and (len(data.train), len(data.test)) == (10, 2)
    assert torch.equal(data.pixels("test"), torch.from_numpy(images[10:] / 255).float())
    assert data.train_labels.tolist() == labels[:10].tolist()


def test_damaged_builtin_file_names_it_and_says_to_download_again(tmp_path: Path) -> None:
    paths = write_tiny_mnist(tmp_path / "mnist", tiny_mnist())
    bad = paths["t10k-images-idx3-ubyte.gz"]
    bad.write_bytes(bad.read_bytes()[:-10])
    with pytest.raises(DataError, match="delete it and download it again") as err:
        load_data("mnist", data_dir=tmp_path, download=False)
    assert str(bad) in str(err.value)
