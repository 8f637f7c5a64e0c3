"""The real MNIST and binarized MNIST files, when this machine has them: in $VAEKIT_DATA, else in the shared data
folder beside the checkout (../shared/data). Absent files skip these tests; nothing is downloaded."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest
import torch

from vaekit.data import list_sources, load_data

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"  # ../shared/data beside the checkout


def data_folders(env: Mapping[str, str]) -> list[Path]:
    """Where to look for the real files: $VAEKIT_DATA when set, then the shared folder."""
    return [*([Path(env["VAEKIT_DATA"]).expanduser()] if env.get("VAEKIT_DATA") else []), SHARED]


# Read when the module is imported: during a test, the data tests' autouse fixture points VAEKIT_DATA elsewhere.
FOLDERS = data_folders(os.environ)


def folder_with(source: str, folders: list[Path] = FOLDERS) -> Path | None:
    """The first of `folders` that holds every file of the built-in `source`, or None."""
    for folder in folders:
        if any(s.name == source and s.present for s in list_sources(folder)):
            return folder
    return None


def needs(source: str, folders: list[Path] = FOLDERS) -> pytest.MarkDecorator:
    """Skip unless one of `folders` holds `source`; the reason says which variable to set to run the test."""
    subfolder = next(s.directory.name for s in list_sources(SHARED) if s.name == source)
    where = " or ".join(str(f / subfolder) for f in folders)
    return pytest.mark.skipif(
        folder_with(source, folders) is None,
        reason=f"no {source} files in {where}. To run this test, set VAEKIT_DATA to a folder whose {subfolder}/ "
        f"subfolder holds them (`vaekit datasets` lists the files)",
    )


def test_vaekit_data_is_looked_in_first_and_absent_files_mean_skip(tmp_path: Path) -> None:
    assert data_folders({"VAEKIT_DATA": str(tmp_path)}) == [tmp_path, SHARED]
    assert data_folders({}) == [SHARED]
    assert folder_with("mnist", [tmp_path / "empty"]) is None
    skip = needs("mnist", [tmp_path / "empty"])
    assert skip.args == (True,)
    assert f"no mnist files in {tmp_path / 'empty' / 'mnist'}" in skip.kwargs["reason"]
    assert "set VAEKIT_DATA to a folder whose mnist/ subfolder holds them" in skip.kwargs["reason"]


@needs("mnist")
def test_real_mnist_has_the_official_split_and_label_counts() -> None:
    data = load_data("mnist", data_dir=folder_with("mnist"), download=False)
    assert (len(data.train), len(data.test), data.shape) == (60000, 10000, (1, 28, 28))
    assert data.train_labels.bincount().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert data.test_labels.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert data.train.dtype == torch.uint8 and data.levels == 256  # held as 8-bit codes, 4x less memory
    assert data.pixels("train").min() == 0 and data.pixels("train").max() == 1 and not data.is_binary


@needs("binarized-mnist")
def test_real_binarized_mnist_is_binary_with_the_fixed_split() -> None:
    folder = folder_with("binarized-mnist")
    data = load_data("binarized-mnist", data_dir=folder, download=False)
    assert (len(data.train), len(data.test), data.shape) == (50000, 10000, (1, 28, 28)) and data.is_binary
    assert data.train_labels is None
    npz_path = folder / "binarized_mnist" / "binarized_mnist.npz"  # the shared folder's copy as one array file
    if npz_path.is_file():
        npz = load_data(str(npz_path))  # the same images, as uint8 {0, 1}
        assert torch.equal(npz.train, data.train) and torch.equal(npz.test, data.test)
