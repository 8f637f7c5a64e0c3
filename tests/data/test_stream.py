"""Streaming from a cache on disk (data.stream): the same rows, the same batches and the same training as in memory,
a cache built once and rebuilt when the source changes, and disjoint shards for two torchrun processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from tiny_configs import TINY_VAE_RUN
from vaekit.config import load_config
from vaekit.data.stream import DiskImages, take_rows
from vaekit.workflow.data import load_configured
from vaekit.workflow.training import train

WORKER = Path(__file__).parents[1] / "train" / "stream_worker.py"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """120 random 10x12 RGB PNGs in two class folders."""
    rng = np.random.default_rng(0)
    for i in range(120):
        (tmp_path / "imgs" / str(i % 2)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, size=(10, 12, 3), dtype=np.uint8)).save(tmp_path / f"imgs/{i % 2}/{i}.png")
    return tmp_path / "imgs"


def _config(source: Path, cache: Path, stream: bool, *extra: str):
    stream_keys = [f"data.source={source}", f"data.stream={str(stream).lower()}", f"data.cache_dir={cache}"]
    return load_config(overrides=[*stream_keys, *TINY_VAE_RUN, *extra])


def test_disk_rows_equal_the_in_memory_rows_in_any_order(tmp_path: Path) -> None:
    x = np.random.default_rng(1).integers(0, 256, size=(50, 3, 4, 5), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    disk = DiskImages(tmp_path / "x.npy")
    assert (len(disk), tuple(disk.shape), disk.dtype) == (50, (50, 3, 4, 5), torch.uint8)
    memory = torch.from_numpy(x)
    idx = torch.randperm(50, generator=torch.Generator().manual_seed(0))
    assert torch.equal(disk.take(idx[:7]), memory[idx[:7]])
    assert torch.equal(disk[10:23], memory[10:23]) and torch.equal(disk[:], memory)
    batches = list(idx.split(8))
    for a, b in zip(take_rows(disk, batches), take_rows(memory, batches), strict=True):
        assert torch.equal(a, b)
    for prefetch in (False, True):  # read in turn, or one batch ahead on a thread: the same batches in order
        for a, i in zip(disk.batches(batches, prefetch=prefetch), batches, strict=True):
            assert torch.equal(a, memory[i])


def test_a_streamed_folder_loads_the_same_splits_labels_and_summary(folder: Path, tmp_path: Path) -> None:
    memory = load_configured(_config(folder, tmp_path / "cache", False).data)
    disk = load_configured(_config(folder, tmp_path / "cache", True).data)
    assert isinstance(disk.train, DiskImages) and disk.train.dtype == torch.uint8
    assert torch.equal(disk.train[:], memory.train) and torch.equal(disk.test[:], memory.test)
    assert torch.equal(disk.train_labels, memory.train_labels) and torch.equal(disk.test_labels, memory.test_labels)
    assert (disk.levels, disk.is_binary, disk.shape) == (memory.levels, memory.is_binary, (3, 10, 12))
    assert disk.info.split == memory.info.split and disk.info.value_range == memory.info.value_range


def test_streaming_trains_to_the_same_weights_as_memory(folder: Path, tmp_path: Path) -> None:
    """The same seed gives the same batches from disk as from memory: the weights after two epochs are equal."""
    weights = []
    for stream in (False, True):
        train(_config(folder, tmp_path / "cache", stream, "data.binarize=dynamic"), tmp_path / f"run{stream}")
        weights.append(load_file(str(tmp_path / f"run{stream}" / "model.safetensors")))
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_an_array_file_streams_through_a_cache_built_in_memory(tmp_path: Path) -> None:
    x = np.random.default_rng(2).integers(0, 256, size=(40, 6, 6), dtype=np.uint8)
    np.savez(tmp_path / "d.npz", train=x[:30], test=x[30:])
    disk = load_configured(_config(tmp_path / "d.npz", tmp_path / "cache", True).data)
    assert isinstance(disk.train, DiskImages) and torch.equal(disk.train[:][:, 0], torch.from_numpy(x[:30]))


def test_the_cache_is_built_once_and_rebuilt_when_the_source_changes(folder: Path, tmp_path: Path) -> None:
    cfg = _config(folder, tmp_path / "cache", True).data
    first = load_configured(cfg).train.path
    stamp = first.stat().st_mtime_ns
    assert load_configured(cfg).train.path == first and first.stat().st_mtime_ns == stamp  # reused, not rewritten
    image = next(folder.rglob("*.png"))
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(image)
    os.utime(image, ns=(stamp + 10**9, stamp + 10**9))
    second = load_configured(cfg).train.path
    assert second.parent != first.parent  # a new cache for the new content
    cfg.resize = [5, 6]
    assert load_configured(cfg).shape == (3, 5, 6)  # and for new transforms


def test_static_binarization_is_refused_with_streaming(folder: Path, tmp_path: Path) -> None:
    from vaekit.errors import DataError

    with pytest.raises(DataError, match="data.binarize=dynamic"):
        train(_config(folder, tmp_path / "cache", True, "data.binarize=static"), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_two_torchrun_processes_read_disjoint_shards_of_the_stream(folder: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    out = tmp_path / "out"
    out.mkdir()
    r = subprocess.run([*cmd, WORKER, folder, tmp_path / "cache", out], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    seen = [np.load(out / f"rank{i}.npy").reshape(-1, 3 * 10 * 12) for i in (0, 1)]
    rows = [{row.tobytes() for row in s} for s in seen]
    assert len(rows[0]) == len(seen[0]) == 54 and len(rows[1]) == len(seen[1]) == 54  # 108 train images, halved
    assert not rows[0] & rows[1]  # disjoint shards
    train_rows = load_configured(_config(folder, tmp_path / "cache", True).data).train[:].numpy()
    assert rows[0] | rows[1] == {row.tobytes() for row in train_rows.reshape(-1, 3 * 10 * 12)}
