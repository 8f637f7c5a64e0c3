"""Data larger than memory (`data.stream=true`): a cache of the transformed images on disk, built once, read batch
by batch.

The cache is a folder of .npy files (`train.npy`, `test.npy`: (N, C, H, W) uint8 codes, or float32 for float
data; labels and factors beside them; `meta.json`), named after a digest of the source (its path, and the names,
sizes and modification times of its files), the transforms and the split, under `data.cache_dir` (default
`<data dir>/cache`). A changed source or setting builds a new cache; an interrupted build leaves only a temporary
folder that the next build replaces. Any .npy reader can open the files (`np.load(path, mmap_mode="r")`).

A folder of images is decoded image by image into the cache, so only its disk size bounds it. Other sources
(.npy/.npz files, idx folders, built-in data sets) are read whole once, as `load_data` reads them, to write the
cache; later runs, and every process under torchrun, then read only the rows of their own batches.

`DiskImages.take` reads the rows of one batch with one positioned read each (`os.preadv`, no memory map, so the
process's resident memory holds a batch, not the file; the operating system's page cache keeps hot rows): about
1.5 ms for 64 RGB 64x64 rows from the page cache, the same as gathering them through a memory map (page faults
dominate). `DiskImages.batches` reads the next batch on a thread while the current one trains, where a core is
free. Beyond one machine's disk,
shard the data into archives read the same way by a library made for it (WebDataset's tar shards: one shard list
per process); vaekit does not add a format of its own.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from vaekit.data.arrays import holdout_indices, split_note
from vaekit.data.files import idx_files
from vaekit.data.images import decode_images, list_image_folder, plan_images
from vaekit.data.transforms import ImageTransforms
from vaekit.data.types import ImageData, LoadInfo
from vaekit.errors import DataError

CACHE_VERSION = 1
_META = "meta.json"


class DiskImages:
    """Images (N, C, H, W) in a .npy file, read by rows: `take(idx)`, `x[a:b]`, `batches(index batches)`."""

    ndim = 4

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            with self.path.open("rb") as f:
                version = np.lib.format.read_magic(f)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, fortran, dtype = read(f)
                self.offset = f.tell()
        except (OSError, ValueError) as err:
            raise DataError(f"cannot read the cache file {self.path}: {err}. Delete its folder to rebuild it.") from err
        if len(shape) != 4 or fortran or dtype not in (np.uint8, np.float32):
            raise DataError(f"the cache file {self.path} does not hold (N, C, H, W) images. Delete its folder.")
        self.np_dtype = np.dtype(dtype)
        self.shape = torch.Size(shape)
        self.row_bytes = int(np.prod(shape[1:])) * self.np_dtype.itemsize
        if self.offset + self.row_bytes * shape[0] > self.path.stat().st_size:
            raise DataError(f"the cache file {self.path} is truncated. Delete its folder to rebuild it.")
        self._fd: int | None = None

    @property
    def dtype(self) -> torch.dtype:
        return torch.uint8 if self.np_dtype == np.uint8 else torch.float32

    def __len__(self) -> int:
        return self.shape[0]

    def element_size(self) -> int:
        return self.np_dtype.itemsize

    def numel(self) -> int:
        return int(np.prod(self.shape))

    def _read(self, out: np.ndarray, row: int) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        view = memoryview(out).cast("B")
        got = os.preadv(self._fd, [view], self.offset + row * self.row_bytes)
        if got != view.nbytes:
            raise DataError(f"the cache file {self.path} ended early (row {row}). Delete its folder to rebuild it.")

    def take(self, idx: torch.Tensor) -> torch.Tensor:
        """The rows idx (B,) as a CPU tensor (B, C, H, W), in the order given."""
        rows = idx.cpu().numpy()
        out = np.empty((len(rows), *self.shape[1:]), dtype=self.np_dtype)
        for j in np.argsort(rows, kind="stable"):  # ascending offsets: sequential where the batch allows
            self._read(out[j], int(rows[j]))
        return torch.from_numpy(out)

    def __getitem__(self, key: slice) -> torch.Tensor:
        """A range of rows as a CPU tensor, e.g. x[:1000]; x[:] reads the whole file into memory."""
        start, stop, step = key.indices(len(self))
        if step != 1:
            raise TypeError("DiskImages reads contiguous ranges only")
        out = np.empty((max(0, stop - start), *self.shape[1:]), dtype=self.np_dtype)
        chunk = max(1, (64 << 20) // self.row_bytes)
        for a in range(0, len(out), chunk):
            self._read(out[a : a + chunk], start + a)
        return torch.from_numpy(out)

    def batches(self, index_batches: Iterable[torch.Tensor], prefetch: bool | None = None) -> Iterator[torch.Tensor]:
        """`take` of each index batch in turn; with `prefetch` the next one is read on a thread while the caller uses
        this one. By default it is where a core is free for it (more cores than torch's threads): on a machine whose
        cores all compute, a reading thread preempts a compute thread, and the others wait for it at every parallel
        operation."""
        if prefetch is None:
            prefetch = (os.cpu_count() or 1) > torch.get_num_threads()
        if not prefetch:
            yield from (self.take(idx) for idx in index_batches)
            return
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            for idx in index_batches:
                ahead = pool.submit(self.take, idx)
                if pending is not None:
                    yield pending.result()
                pending = ahead
            if pending is not None:
                yield pending.result()

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"DiskImages({str(self.path)!r}, shape={tuple(self.shape)}, dtype={self.np_dtype})"


def take_rows(data: torch.Tensor | DiskImages, index_batches: list[torch.Tensor]) -> Iterator[torch.Tensor]:
    """The rows of each index batch of in-memory or on-disk images, on the device of the indices."""
    if isinstance(data, DiskImages):
        device = index_batches[0].device if index_batches else torch.device("cpu")
        return (x.to(device, non_blocking=True) for x in data.batches(index_batches))
    return (data.index_select(0, idx) for idx in index_batches)


# ---------------------------------------------------------------------------------------------------------
# The cache: its name, building it once, opening it.


def _fingerprint(path: Path) -> list:
    """What identifies the source's content cheaply: each file's relative name, size and modification time."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return [
        [str(p.relative_to(path) if path.is_dir() else p.name), p.stat().st_size, p.stat().st_mtime_ns] for p in files
    ]


def cache_folder(root: Path, source: str, transforms: ImageTransforms, test_fraction: float, split_seed: int) -> Path:
    path = Path(source).expanduser()
    content = _fingerprint(path) if path.exists() else source  # a built-in name: its files are checksummed
    key = json.dumps(
        [
            CACHE_VERSION,
            str(path.resolve()) if path.exists() else source,
            content,
            repr(transforms),
            test_fraction,
            split_seed,
        ]
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return root / f"{path.name or source}-{digest}"


def stream_data(
    source: str,
    cache_root: Path,
    *,
    load_in_memory,  # () -> ImageData: the ordinary loader, for sources that are not image folders
    test_fraction: float,
    split_seed: int,
    transforms: ImageTransforms,
    progress: bool = True,
) -> ImageData:
    """The data set of `source` with its splits on disk (DiskImages), building the cache first if needed."""
    folder = cache_folder(cache_root, source, transforms, test_fraction, split_seed)
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
        with (cache_root / f"{folder.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one builder; other processes (torchrun's ranks) wait, then open it
            if not (folder / _META).is_file():
                _build(source, folder, load_in_memory, test_fraction, split_seed, transforms, progress)
    except OSError as err:
        raise DataError(
            f"cannot write the stream cache in {cache_root}: {err.strerror or err}. Set data.cache_dir to a "
            "writable folder with room for the data set (uint8: N x C x H x W bytes)."
        ) from err
    return open_cache(folder, source)


def _build(source, folder, load_in_memory, test_fraction, split_seed, transforms, progress) -> None:
    tmp = folder.with_name(folder.name + ".building")  # an interrupted build leaves this; the next one replaces it
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    path = Path(source).expanduser()
    if path.is_dir() and not idx_files(path):
        meta = _build_from_folder(path, tmp, test_fraction, split_seed, transforms, progress)
    else:
        meta = _build_from_memory(load_in_memory(), tmp)
    (tmp / _META).write_text(json.dumps(meta))  # last: a folder with meta.json is complete
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)


def open_cache(folder: Path, name: str) -> ImageData:
    try:
        meta = json.loads((folder / _META).read_text())
    except (OSError, ValueError) as err:
        raise DataError(f"the cache {folder} is damaged ({err}). Delete the folder to rebuild it.") from err
    extra = {}
    for key in ("train_labels", "test_labels", "train_factors", "test_factors"):
        if (folder / f"{key}.npy").is_file():
            extra[key] = torch.from_numpy(np.load(folder / f"{key}.npy", allow_pickle=False))
    info = LoadInfo(**{k: tuple(v) if isinstance(v, list) else v for k, v in meta["info"].items()})
    return ImageData(
        name,
        DiskImages(folder / "train.npy"),  # type: ignore[arg-type]
        DiskImages(folder / "test.npy"),  # type: ignore[arg-type]
        is_binary=meta["is_binary"],
        levels=meta["levels"],
        info=info,
        **extra,
    )


def _save(folder: Path, key: str, array: np.ndarray | torch.Tensor | None) -> None:
    if array is not None:
        np.save(folder / f"{key}.npy", np.asarray(array))


def _build_from_memory(data: ImageData, folder: Path) -> dict:
    for key in ("train", "test", "train_labels", "test_labels", "train_factors", "test_factors"):
        _save(folder, key, getattr(data, key))
    return {"is_binary": data.is_binary, "levels": data.levels, "info": data.info.__dict__ if data.info else {}}


def _build_from_folder(
    source: Path, folder: Path, test_fraction: float, split_seed: int, transforms: ImageTransforms, progress: bool
) -> dict:
    """Decode a folder of images split by split into train.npy / test.npy, never holding more than a chunk."""
    listing = list_image_folder(source)
    paths, labels = listing.paths, listing.labels
    if len(paths) == 1:  # one split: hold out its test images, as `build_image_data` does
        train_idx, test_idx = holdout_indices(len(paths[0]), test_fraction, split_seed, str(source))
        y = labels[0]
        paths = [[paths[0][i] for i in train_idx], [paths[0][i] for i in test_idx]]
        labels = [None, None] if y is None else [y[train_idx], y[test_idx]]
    plan = plan_images([p for split in paths for p in split], transforms)
    bar = tqdm(
        total=sum(map(len, paths)), desc=f"caching {source.name}", unit="img", disable=None if progress else True
    )
    lo, hi, extremes = 255, 0, True
    for name, split_paths in zip(("train", "test"), paths, strict=True):
        with (folder / f"{name}.npy").open("wb") as f:  # plain writes: no mapped pages in this process
            header = {"descr": "|u1", "fortran_order": False, "shape": (len(split_paths), *plan.shape)}
            np.lib.format.write_array_header_1_0(f, header)
            for chunk in decode_images(split_paths, plan, transforms):  # (n, C, H, W) uint8
                f.write(memoryview(np.ascontiguousarray(chunk)).cast("B"))
                lo, hi = min(lo, int(chunk.min())), max(hi, int(chunk.max()))
                extremes = extremes and bool(np.isin(chunk, (0, 255)).all())
                bar.update(len(chunk))
    bar.close()
    if all(y is not None for y in labels):
        _save(folder, "train_labels", labels[0])
        _save(folder, "test_labels", labels[1])
    levels, values = 256, "uint8 values 0..255, divided by 255"
    if extremes:  # binary images saved as 0/255: codes 0/1, as the in-memory loader holds them
        for name in ("train", "test"):
            x = np.load(folder / f"{name}.npy", mmap_mode="r+")
            for a in range(0, len(x), 4096):
                x[a : a + 4096] //= 255
            x.flush()
            del x
        levels, values = 2, values + "; every pixel is 0 or 255: binary"
    info = LoadInfo(
        tuple(f"{root} ({len(p)} images)" for root, p in zip(listing.roots, listing.paths, strict=True)),
        values,
        transforms.describe(),
        split_note(len(listing.paths) == 1, test_fraction, split_seed),
        (),
        (lo / 255, hi / 255) if levels == 256 else (lo // 255, hi // 255),
        plan.notes(),
    )
    return {"is_binary": extremes, "levels": levels, "info": info.__dict__}
