"""Downloads against a local http.server (never the internet): checksums, atomic writes, clear failures."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch

from vaekit.atomic import current_umask
from vaekit.data import SOURCES, load_data
from vaekit.data.download import DownloadError, RemoteFile, fetch
from vaekit.errors import DataError

from .mirror import Mirror, closed_port_url
from .writers import sha256, tiny_mnist, write_tiny_mnist


def _tiny_mnist_on(mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> dict[str, np.ndarray]:
    """Serve tiny idx files at $VAEKIT_MIRROR/mnist/ and register their checksums for 'mnist'."""
    arrays = tiny_mnist()
    paths = write_tiny_mnist(mirror.root / "mnist", arrays)
    files = tuple(dataclasses.replace(f, checksum=f"sha256:{sha256(paths[f.name])}") for f in SOURCES["mnist"].files)
    monkeypatch.setitem(SOURCES, "mnist", dataclasses.replace(SOURCES["mnist"], files=files))
    monkeypatch.setenv("VAEKIT_MIRROR", mirror.url)
    return arrays


def test_missing_files_are_downloaded_verified_and_read(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    arrays = _tiny_mnist_on(mirror, monkeypatch)
    data = load_data("mnist", data_dir=tmp_path / "d")
    expected = torch.from_numpy(arrays["t10k-images-idx3-ubyte"][:, None] / 255).float()
    assert torch.equal(data.pixels("test"), expected)
    stored = sorted(p.name for p in (tmp_path / "d" / "mnist").iterdir())
    assert stored == sorted(f.name for f in SOURCES["mnist"].files)  # no temporary files left
    assert len(mirror.requests) == 4
    load_data("mnist", data_dir=tmp_path / "d")
    assert len(mirror.requests) == 4  # present files are not fetched again


def test_only_missing_files_are_fetched(mirror: Mirror, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    arrays = _tiny_mnist_on(mirror, monkeypatch)
    local = {k: v for k, v in arrays.items() if k.startswith("t10k")}
    write_tiny_mnist(tmp_path / "mnist", local, suffix="")  # uncompressed files count as present
    load_data("mnist", data_dir=tmp_path)
    assert sorted(mirror.requests) == ["/mnist/train-images-idx3-ubyte.gz", "/mnist/train-labels-idx1-ubyte.gz"]


def test_fetch_falls_back_to_the_next_url(mirror: Mirror, tmp_path: Path) -> None:
    (mirror.root / "b").mkdir()
    (mirror.root / "b" / "f.bin").write_bytes(b"payload")
    file = RemoteFile("f.bin", f"sha256:{sha256(mirror.root / 'b' / 'f.bin')}")
    path = fetch(file, tmp_path / "out", [f"{mirror.url}/a", f"{mirror.url}/b/"])
    assert path == tmp_path / "out" / "f.bin" and path.read_bytes() == b"payload"
    if hasattr(os, "fchmod"):  # a shared data folder: readable like any new file, not private to the downloader
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~current_umask()


def test_fetch_from_a_file_url(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f.bin").write_bytes(b"abc")
    file = RemoteFile("f.bin", "md5:900150983cd24fb0d6963f7d28e17f72")
    assert fetch(file, tmp_path / "out", [(tmp_path / "src").as_uri()]).read_bytes() == b"abc"


def test_checksum_mismatch_leaves_nothing_behind(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _tiny_mnist_on(mirror, monkeypatch)
    (mirror.root / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"tampered")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz but its sha256 is wrong") as err:
        load_data("mnist", data_dir=tmp_path)
    assert "The download was deleted" in str(err.value) and str(tmp_path / "mnist") in str(err.value)
    assert not any(p.name.startswith("t10k-labels") or p.suffix == ".part" for p in (tmp_path / "mnist").iterdir())


def test_http_404_names_the_files_and_the_folder(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VAEKIT_MIRROR", mirror.url)  # serves nothing
    with pytest.raises(DataError, match="HTTP 404") as err:
        load_data("fashion-mnist", data_dir=tmp_path)
    message = str(err.value)
    assert str(tmp_path / "fashion-mnist") in message and "VAEKIT_DATA" in message
    for f in SOURCES["fashion-mnist"].files:
        assert f"{f.name} (md5 {f.digest})" in message
    assert not (tmp_path / "fashion-mnist").exists()  # nothing was fetched: no empty folder is left behind


def test_a_data_dir_one_level_too_deep_creates_nothing_and_says_which_to_give(tmp_path: Path) -> None:
    write_tiny_mnist(tmp_path / "mnist", tiny_mnist())  # the user points --data-dir at the mnist folder itself
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(DataError, match="Downloading them failed") as err:
        load_data("mnist", data_dir=tmp_path / "mnist")
    assert f"They are in {tmp_path / 'mnist'} itself" in str(err.value)
    assert f"--data-dir {tmp_path}" in str(err.value)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # no mnist/mnist folder


def test_offline_names_the_files_checksums_and_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAEKIT_MIRROR", closed_port_url())
    with pytest.raises(DataError, match="Downloading them failed") as err:
        load_data("binarized-mnist", data_dir=tmp_path)
    message = str(err.value)
    assert "binarized_mnist_train.amat (sha256 ad693b29" in message and "binarized_mnist_test.amat" in message
    assert f"put those files in {tmp_path / 'binarized_mnist'}" in message


def test_download_false_never_touches_the_network(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _tiny_mnist_on(mirror, monkeypatch)
    with pytest.raises(DataError, match="Downloads are turned off") as err:
        load_data("cifar10", data_dir=tmp_path, download=False)
    assert "cifar-10-binary.tar.gz (md5 c32a1d4ab5d03f1284b67883e8d87530)" in str(err.value)
    assert str(tmp_path / "cifar10") in str(err.value)
    with pytest.raises(DataError):
        load_data("mnist", data_dir=tmp_path, download=False)
    assert mirror.requests == []


def test_fetch_reports_every_url_that_failed(tmp_path: Path) -> None:
    urls = [closed_port_url(), "nonsense://x"]
    with pytest.raises(DownloadError) as err:
        fetch(RemoteFile("f.bin", "md5:0"), tmp_path, urls)
    assert len(err.value.failures) == 2 and all("f.bin" in failure for failure in err.value.failures)


def test_unwritable_data_folder_says_to_choose_another(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="cannot create the data folder.*VAEKIT_DATA"):
        fetch(RemoteFile("f.bin", "md5:0"), tmp_path / "file" / "sub", ["http://127.0.0.1:1"])
