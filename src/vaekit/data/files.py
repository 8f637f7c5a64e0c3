"""Data sets given as a path: a .npy or .npz array file, a folder of idx files, or a folder of images.

.npy: one array of images (held out from). .npz: `train`/`test` (or `x_train`/`x_test`) with optional
`train_labels`/`test_labels` (or `y_train`/`y_test`); other keys are ignored; `train` alone, or an
archive holding a single array under any key, is held out from. What NumPy returns decides, not the
suffix, so a .npz that holds a .npy is read as one array. Nothing is unpickled (allow_pickle=False).
"""

from __future__ import annotations

import math
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np

from vaekit.data.formats import corrupt, read_idx
from vaekit.data.images import read_image_folder
from vaekit.data.transforms import ImageTransforms
from vaekit.data.types import RawData, Split
from vaekit.errors import DataError

ACCEPTED_KINDS = (
    "a .npy file of images; a .npz file with train/test arrays (x_train/x_test also work); a folder of "
    "PNG/JPEG images (optionally split into train/ and test/, with class subfolders for labels); or a folder "
    "of idx files (train-images-idx3-ubyte.gz, t10k-images-idx3-ubyte.gz and their -labels-idx1- files)"
)
_KEYS = {
    "train": ("train", "x_train"),
    "test": ("test", "x_test"),
    "train_labels": ("train_labels", "y_train"),
    "test_labels": ("test_labels", "y_test"),
}
_IDX_NAME = re.compile(r"(?P<prefix>.+)-(?P<kind>images|labels)[-.]idx\d-ubyte(?:\.gz)?")
_NPY_MAGIC, _ZIP_MAGIC = b"\x93NUMPY", b"PK"
_LOAD_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


def _not_numpy(path: Path, err: BaseException) -> DataError:
    if "pickle" in str(err):
        return DataError(
            f"{path} holds pickled Python objects, which vaekit never loads (they can run code). "
            f"Fix: save plain numeric arrays, e.g. np.save(path, np.asarray(images, dtype=np.uint8))."
        )
    return corrupt(path, f"NumPy cannot read it as a .npy or .npz file ({err})")


def _load_npz(path: Path, archive: np.lib.npyio.NpzFile) -> RawData:
    found = {role: next((k for k in keys if k in archive.files), None) for role, keys in _KEYS.items()}
    if found["train"] is None:
        if len(archive.files) != 1:
            raise DataError(
                f"{path} holds the arrays {archive.files or 'none'}, but vaekit looks for 'train' and 'test' "
                f"(or 'x_train' and 'x_test'), with optional 'train_labels'/'test_labels' (or 'y_train'/"
                f"'y_test'). Fix: save with np.savez(path, train=..., test=...), or save a single array."
            )
        found = {"train": archive.files[0], "test": None, "train_labels": None, "test_labels": None}

    def split(images: str | None, labels: str | None) -> Split | None:
        if images is None:
            return None
        y = archive[labels] if labels is not None else None
        return Split(archive[images], y, f"{path}['{images}']", f"{path}['{labels}']" if labels else None)

    return RawData(split(found["train"], found["train_labels"]), split(found["test"], found["test_labels"]))


def read_numpy(path: Path) -> RawData:
    """A .npy array of images, or a .npz archive of train/test arrays (see the module docstring)."""
    try:
        with path.open("rb") as f:
            magic = f.read(6)
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}. Fix: check that it is a readable file.") from err
    if not magic.startswith((_NPY_MAGIC, _ZIP_MAGIC)):
        raise corrupt(path, "it starts with neither the .npy signature nor the .npz (zip) signature")
    if magic.startswith(_NPY_MAGIC):
        _check_npy_size(path)
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return RawData(Split(loaded, None, str(path)), None)
        with loaded as archive:
            return _load_npz(path, archive)
    except _LOAD_ERRORS as err:
        raise _not_numpy(path, err) from err
    except MemoryError:
        raise DataError(
            f"{path} holds an array larger than this machine's memory (or its header claims one). Fix: check the "
            "file; split a genuinely large data set into smaller files."
        ) from None


def _check_npy_size(path: Path) -> None:
    """Refuse a .npy whose header claims more bytes than the file holds, before NumPy allocates them."""
    try:
        with path.open("rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = (
                np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(f)
            offset = f.tell()
    except (ValueError, OSError, EOFError) as err:
        raise _not_numpy(path, err) from err
    claimed = math.prod(shape) * dtype.itemsize
    if offset + claimed > path.stat().st_size:
        raise corrupt(
            path,
            f"its header claims an array of shape {shape} ({claimed:,} bytes) but the file holds "
            f"{path.stat().st_size - offset:,} bytes of data",
        )


def idx_files(folder: Path) -> dict[tuple[str, str], Path]:
    """The idx files directly in `folder`, keyed by (prefix, 'images' | 'labels'); uncompressed ones first."""
    found: dict[tuple[str, str], Path] = {}
    for path in sorted(folder.iterdir()):
        match = _IDX_NAME.fullmatch(path.name)
        if match and path.is_file():
            found.setdefault((match["prefix"], match["kind"]), path)
    return found


def read_idx_folder(folder: Path, found: dict[tuple[str, str], Path]) -> RawData:
    """A folder of MNIST-style idx files: `train-*` is the train split, `t10k-*` (or `test-*`) the test split.

    A folder with a single prefix (e.g. only `train-*`) is held out from.
    """
    prefixes = sorted({prefix for prefix, kind in found if kind == "images"})
    train = "train" if "train" in prefixes else (prefixes[0] if len(prefixes) == 1 else None)
    if train is None:
        raise DataError(
            f"the folder {folder} holds idx image files with the prefixes {prefixes} but none named "
            f"train-images-idx3-ubyte(.gz). Fix: rename the training images to train-images-idx3-ubyte.gz "
            f"and the test images to t10k-images-idx3-ubyte.gz (labels: train-labels-idx1-ubyte.gz, ...)."
        )
    test = next((p for p in ("t10k", "test") if p in prefixes and p != train), None)

    def split(prefix: str) -> Split:
        images, labels = found[(prefix, "images")], found.get((prefix, "labels"))
        y = read_idx(labels) if labels is not None else None
        return Split(read_idx(images), y, str(images), str(labels) if labels is not None else None)

    return RawData(split(train), split(test) if test is not None else None)


def read_path(path: Path, transforms: ImageTransforms | None = None) -> RawData:
    """Read the data set at `path`: .npy/.npz, a folder of idx files, or a folder of images (transformed as
    they are decoded; other readers leave the transforms to `build_image_data`)."""
    if path.is_dir():
        found = idx_files(path)
        if any(kind == "images" for _, kind in found):
            return read_idx_folder(path, found)
        return read_image_folder(path, transforms)
    if path.suffix.lower() in (".npy", ".npz"):
        return read_numpy(path)
    kind = f"a '{path.suffix}' file" if path.suffix else "a file without a suffix"
    raise DataError(f"{path} is {kind}, which vaekit cannot read as a data set. Accepted: {ACCEPTED_KINDS}.")
