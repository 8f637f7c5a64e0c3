"""dSprites (Matthey et al. 2017) from its .npz file, and the seeded subset `load_data` takes of a factor grid.

A factor grid (the real file, or `shapes`, its procedural twin) is too large to hold as float32 tensors
(737280 x 64 x 64 x 4 bytes = 12 GB), so `load_data("shapes")` or `load_data("dsprites")` returns a subset:
`size` items drawn without replacement with `split_seed`, of which round(size * test_fraction) are the test
split (`name:N` in place of the name sets size = N; the default is the source's `subset_size`). The real
file lists its images in the order `vaekit.data.shapes` numbers its grid, so one seed draws the same factor
combinations from either.

The file is read with allow_pickle=False (its pickled `metadata` entry is never opened) and its images are
decompressed in chunks, keeping only the rows drawn: the 3 GB of uint8 images are never whole in memory.
"""

from __future__ import annotations

import dataclasses
import math
import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch

from vaekit.data.arrays import build_image_data
from vaekit.data.shapes import FACTOR_SIZES
from vaekit.data.transforms import ImageTransforms
from vaekit.data.types import FactorGrid, ImageData, RawData, Split
from vaekit.errors import DataError

DSPRITES_FILE = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
DSPRITES_URL = "https://github.com/deepmind/dsprites-dataset"
_CHUNK_BYTES = 32 << 20  # bytes of images decompressed per step
_READ_ERRORS = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error)


def _damaged(path: Path, err: BaseException | str) -> DataError:
    return DataError(
        f"cannot read the dSprites file {path}: {err}. Fix: delete it and get it again from {DSPRITES_URL}."
    )


def _npy_header(stream) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype of the .npy array whose bytes `stream` yields, leaving it at the first row."""
    version = np.lib.format.read_magic(stream)
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise ValueError(f".npy format version {version} is not supported")
    shape, fortran_order, dtype = readers[version](stream)
    if fortran_order or dtype.hasobject or len(shape) < 1:
        raise ValueError(f"an array of shape {shape} and dtype {dtype} (Fortran order: {fortran_order})")
    return shape, dtype


def _array_shape(path: Path, key: str) -> tuple[int, ...]:
    with zipfile.ZipFile(path) as archive, archive.open(f"{key}.npy") as stream:
        return _npy_header(stream)[0]


def _read_rows(path: Path, key: str, rows: np.ndarray) -> np.ndarray:
    """The rows `rows` (sorted, unique) of the array `key` of the .npz at `path`, decompressed chunk by chunk."""
    with zipfile.ZipFile(path) as archive, archive.open(f"{key}.npy") as stream:
        shape, dtype = _npy_header(stream)
        row_bytes = dtype.itemsize * math.prod(shape[1:])
        out = np.empty((len(rows), *shape[1:]), dtype)
        per_chunk = max(1, _CHUNK_BYTES // max(row_bytes, 1))
        done = start = 0  # rows of `out` filled; first row of the file not yet read
        while done < len(rows):
            n = min(per_chunk, shape[0] - start)
            buffer = stream.read(n * row_bytes)
            if len(buffer) != n * row_bytes:
                raise EOFError(f"'{key}' ends after {start + len(buffer) // max(row_bytes, 1)} of {shape[0]} rows")
            block = np.frombuffer(buffer, dtype).reshape(n, *shape[1:])
            stop = int(np.searchsorted(rows, start + n))  # rows[done:stop] lie in this block
            out[done:stop] = block[rows[done:stop] - start]
            done, start = stop, start + n
    return out


def read_dsprites(paths: dict[str, Path]) -> FactorGrid:
    """The built-in source `dsprites`: the file's images and `latents_classes` without the color column."""
    path = paths[DSPRITES_FILE]
    try:
        with np.load(path, allow_pickle=False) as archive:
            classes = archive["latents_classes"]  # (N, 6): color, shape, scale, orientation, pos_x, pos_y
        image_shape = _array_shape(path, "imgs")
    except _READ_ERRORS as err:
        raise _damaged(path, err) from err
    if classes.ndim != 2 or classes.shape[1] != 1 + len(FACTOR_SIZES) or classes.dtype.kind not in "ui":
        got = f"{classes.dtype} of shape {classes.shape}"
        raise _damaged(path, f"'latents_classes' should be integers of shape (N, 6), got {got}")
    if len(image_shape) != 3 or image_shape[0] != len(classes):
        raise _damaged(path, f"'imgs' should have shape ({len(classes)}, H, W), got {image_shape}")
    factors = classes[:, 1:].astype(np.int64)  # (N, 5)
    if (factors < 0).any() or (factors >= np.array(FACTOR_SIZES)).any():
        raise _damaged(path, f"'latents_classes' holds factor indices outside the sizes {FACTOR_SIZES}")

    def take(items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        try:
            images = _read_rows(path, "imgs", items)  # (n, H, W) uint8 in {0, 1}
        except _READ_ERRORS as err:
            raise _damaged(path, err) from err
        return images, factors[items]

    return FactorGrid(len(factors), take, f"{path}['imgs']")


def draw_subset(
    name: str, grid: FactorGrid, size: int, test_fraction: float, seed: int, transforms: ImageTransforms | None = None
) -> ImageData:
    """`size` items of `grid` drawn without replacement with `seed`; round(size * test_fraction) are the test split.

    Labels are the first factor (dSprites' shape); `train_factors`/`test_factors` hold all factor indices.
    """
    if not 2 <= size <= grid.size:
        raise DataError(
            f"'{name}' asks for {size} images, but a train and a test split need at least 2 and the source holds "
            f"{grid.size}. Fix: give a size between 2 and {grid.size}, e.g. '{name.partition(':')[0]}:20000'."
        )
    n_test = min(max(round(size * test_fraction), 1), size - 1)
    chosen = np.random.default_rng(seed).choice(grid.size, size=size, replace=False)  # (size,), random order
    items = np.sort(chosen)  # read in grid order: one pass over a file
    images, factors = grid.take(items)  # (size, H, W), (size, K)
    is_test = np.isin(items, chosen[:n_test])
    train, test = ~is_test, is_test
    raw = RawData(*(Split(images[m], factors[m, 0], grid.origin) for m in (train, test)))
    del images  # the splits are copies; free the drawn images before they are stored
    data = build_image_data(name, raw, test_fraction, seed, transforms)
    return dataclasses.replace(
        data, train_factors=torch.from_numpy(factors[train]), test_factors=torch.from_numpy(factors[test])
    )
