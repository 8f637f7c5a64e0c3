"""The built-in data sets (a registry: name -> BuiltinSource) and `load_data`, for a name or a path."""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vaekit.data.arrays import build_image_data
from vaekit.data.download import RemoteFile, base_urls, ensure_files, local_path, missing_files_error
from vaekit.data.dsprites import DSPRITES_FILE, DSPRITES_URL, draw_subset, read_dsprites
from vaekit.data.files import ACCEPTED_KINDS, read_path
from vaekit.data.formats import read_amat, read_cifar_binary, read_idx
from vaekit.data.shapes import read_shapes
from vaekit.data.transforms import ImageTransforms
from vaekit.data.types import FactorGrid, ImageData, RawData, SourceInfo, Split
from vaekit.errors import DataError

DATA_ENV = "VAEKIT_DATA"


@dataclass(frozen=True)
class BuiltinSource:
    """A named data set: the files it needs in `<data_dir>/<directory>`, where to get them, how to read."""

    name: str
    description: str
    read: Callable[[dict[str, Path]], RawData | FactorGrid]  # {file name: local path} -> splits, or a grid
    directory: str | None = None  # subfolder of the data dir; None when the data ship with a library
    files: tuple[RemoteFile, ...] = ()
    urls: tuple[str, ...] = ()  # official base URLs, tried in order (VAEKIT_MIRROR replaces them)
    homepage: str | None = None  # where to get the files, for a source without `urls` (not downloaded)
    subset_size: int | None = None  # a FactorGrid source: images drawn by default ('name:N' draws N)
    levels: int | None = 256  # the values a pixel takes (ImageData.levels); None: continuous


def default_data_dir() -> Path:
    """$VAEKIT_DATA if set, else the cache folder."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    return cache_dir()


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/vaekit, else ~/.cache/vaekit: what vaekit computes once and keeps (downloads by default)."""
    cache = os.environ.get("XDG_CACHE_HOME")
    return (Path(cache).expanduser() if cache else Path.home() / ".cache") / "vaekit"


# Readers of the built-in sources: {file name: local path} -> RawData.


def _read_digits(paths: dict[str, Path]) -> RawData:
    from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

    digits = load_digits()
    images = digits.images / 16.0  # (1797, 8, 8) float64, counts 0..16 -> [0, 1]
    return RawData(Split(images, digits.target, "scikit-learn's load_digits()"), None)


def _read_idx_pair(paths: dict[str, Path]) -> RawData:
    def split(prefix: str) -> Split:
        images, labels = paths[f"{prefix}-images-idx3-ubyte.gz"], paths[f"{prefix}-labels-idx1-ubyte.gz"]
        return Split(read_idx(images), read_idx(labels), str(images), str(labels))  # (N, 28, 28) uint8

    return RawData(split("train"), split("t10k"))


def _read_binarized_mnist(paths: dict[str, Path]) -> RawData:
    """The fixed binarization of Larochelle & Murray (2011): its 50000 train rows and 10000 test rows.

    The 10000 validation rows (binarized_mnist_valid.amat) are not used for now, so they are not fetched.
    """

    def split(name: str) -> Split:
        path = paths[name]
        rows = read_amat(path, row_length=28 * 28)  # (N, 784) bool
        return Split(rows.reshape(-1, 28, 28), None, str(path))

    return RawData(split("binarized_mnist_train.amat"), split("binarized_mnist_test.amat"))


def _read_cifar10(paths: dict[str, Path]) -> RawData:
    path = paths["cifar-10-binary.tar.gz"]
    x_train, y_train, x_test, y_test = read_cifar_binary(path)  # (N, 3, 32, 32) uint8, (N,) uint8
    return RawData(Split(x_train, y_train, str(path)), Split(x_test, y_test, str(path)))


def _idx_files(algorithm: str, digests: dict[str, str]) -> tuple[RemoteFile, ...]:
    """The four .gz idx files; their uncompressed versions (both usual names) are accepted on disk."""
    return tuple(
        RemoteFile(name, f"{algorithm}:{digest}", (name[:-3], name[:-3].replace("-idx", ".idx")))
        for name, digest in digests.items()
    )


_MNIST_FILES = _idx_files(
    "sha256",
    {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
)
_FASHION_FILES = _idx_files(
    "md5",
    {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
)
# Checksums of the uncompressed .amat files as served (sha1 train cf70514e..., test ca70bd77...).
_BINARIZED_FILES = tuple(
    RemoteFile(name, f"sha256:{digest}", (f"{name}.gz",))
    for name, digest in {
        "binarized_mnist_train.amat": "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d",
        "binarized_mnist_test.amat": "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c",
    }.items()
)
_CIFAR10_FILES = (
    RemoteFile("cifar-10-binary.tar.gz", "md5:c32a1d4ab5d03f1284b67883e8d87530", ("cifar-10-batches-bin",)),
)

SOURCES: dict[str, BuiltinSource] = {
    s.name: s
    for s in (
        BuiltinSource(
            "digits",
            "scikit-learn's 1797 handwritten digits, 1x8x8, 10 classes; bundled (no download), hold-out test",
            _read_digits,
            levels=17,  # counts 0..16 of a 4x4 block of a 32x32 bitmap
        ),
        BuiltinSource(
            "mnist",
            "MNIST handwritten digits (LeCun et al. 1998), 1x28x28, 60000 train / 10000 test, 10 classes",
            _read_idx_pair,
            "mnist",
            _MNIST_FILES,
            ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
        ),
        BuiltinSource(
            "fashion-mnist",
            "Fashion-MNIST clothing images (Xiao et al. 2017), 1x28x28, 60000 train / 10000 test, 10 classes",
            _read_idx_pair,
            "fashion-mnist",
            _FASHION_FILES,
            ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        ),
        BuiltinSource(
            "binarized-mnist",
            "MNIST with the fixed binarization of Larochelle & Murray 2011, 1x28x28 in {0,1}, "
            "50000 train / 10000 test, no labels",
            _read_binarized_mnist,
            "binarized_mnist",
            _BINARIZED_FILES,
            ("http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/",),
            levels=2,
        ),
        BuiltinSource(
            "cifar10",
            "CIFAR-10 (Krizhevsky 2009), binary version, 3x32x32, 50000 train / 10000 test, 10 classes",
            _read_cifar10,
            "cifar10",
            _CIFAR10_FILES,
            ("https://www.cs.toronto.edu/~kriz/",),
        ),
        BuiltinSource(
            "shapes",
            "dSprites' 737280-image factor grid drawn procedurally, 1x64x64 binary, 5 factors; no download; "
            "loads a seeded subset, 'shapes:N' for N images (default 100000)",
            read_shapes,
            subset_size=100_000,
            levels=2,
        ),
        BuiltinSource(
            "dsprites",
            f"dSprites (Matthey et al. 2017), 1x64x64 binary, 5 factors; not downloaded: get it from {DSPRITES_URL}; "
            "loads a seeded subset, 'dsprites:N' for N images (default 100000)",
            read_dsprites,
            "dsprites",
            (RemoteFile(DSPRITES_FILE, "md5:7da33b31b13a06f4b04a70402ce90c2e"),),
            homepage=DSPRITES_URL,
            subset_size=100_000,
            levels=2,
        ),
    )
}


def _data_root(data_dir: str | os.PathLike | None) -> Path:
    return Path(data_dir).expanduser() if data_dir is not None else default_data_dir()


def list_sources(data_dir: str | os.PathLike | None = None) -> list[SourceInfo]:
    """One SourceInfo per built-in source: where its files are looked for and whether they are all there."""
    root = _data_root(data_dir)
    infos = []
    for spec in SOURCES.values():
        folder = root / spec.directory if spec.directory is not None else None
        present = folder is None or all(local_path(f, folder) is not None for f in spec.files)
        names = tuple(f.name for f in spec.files)
        downloadable = folder is None or bool(spec.urls)  # False: the user must place the files
        infos.append(SourceInfo(spec.name, spec.description, folder, names, present, downloadable))
    return infos


def _read_builtin(spec: BuiltinSource, root: Path, download: bool) -> RawData | FactorGrid:
    if spec.directory is None:
        return spec.read({})
    folder = root / spec.directory
    urls = base_urls(spec.directory, spec.urls)
    missing = [f for f in spec.files if local_path(f, folder) is None]
    if missing and not urls:
        why = f"vaekit does not download them; get them from {spec.homepage}"
        raise missing_files_error(spec.name, folder, missing, why)
    paths = ensure_files(spec.name, folder, spec.files, urls, download)
    return spec.read(paths)


def _builtin(source: str) -> tuple[BuiltinSource | None, int | None]:
    """The built-in source that `source` names, and N when it is 'name:N' for a source drawn as a subset."""
    if source in SOURCES:
        return SOURCES[source], None
    name, colon, count = source.partition(":")
    spec = SOURCES.get(name)
    if not colon or spec is None or spec.subset_size is None:
        return None, None
    if not (count.isascii() and count.isdigit()):
        raise DataError(f"'{source}': after '{name}:' comes a number of images, e.g. '{name}:20000'.")
    return spec, int(count)


def load_factor_grid(
    source: str, *, data_dir: str | os.PathLike | None = None, download: bool = True
) -> FactorGrid | None:
    """Every factor combination of a factor source ('shapes', 'dsprites', or 'name:N'), or None for other sources.

    Items are numbered in dSprites' order (`vaekit.data.shapes.grid_items`); `take` renders or reads them.
    """
    spec, _ = _builtin(os.fspath(source))
    if spec is None or spec.subset_size is None:
        return None
    grid = _read_builtin(spec, _data_root(data_dir), download)
    return grid if isinstance(grid, FactorGrid) else None


def _existing_path(source: str) -> Path:
    path = Path(source).expanduser()
    try:
        if source.strip() and path.exists():
            return path
    except (OSError, ValueError):  # e.g. a name too long for the file system, or a NUL byte
        pass
    close = difflib.get_close_matches(source.lower(), list(SOURCES), n=1, cutoff=0.6)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise DataError(
        f"'{source}' is neither a built-in data set nor an existing file or folder "
        f"(looked for {path.absolute()}).{hint} Built-in data sets: {', '.join(SOURCES)}. "
        f"A path may be {ACCEPTED_KINDS}."
    )


def load_data(
    source: str,
    *,
    data_dir: str | os.PathLike | None = None,
    test_fraction: float = 0.1,
    split_seed: int = 0,
    download: bool = True,
    transforms: ImageTransforms | None = None,
) -> ImageData:
    """Load a built-in data set by name, or the data set at a path, as float32 (N, C, H, W) tensors in [0, 1].

    Args:
        source: a name in SOURCES (see `list_sources`), which wins over a file of the same name (write
            `./mnist` for that), or a path: see `vaekit.data.files` and `vaekit.data.images`. Factor grids
            (`shapes`, `dsprites`) load a seeded subset of `subset_size` images, or N with `shapes:N`
            (drawn with `split_seed`; see `vaekit.data.dsprites`), with `train_factors`/`test_factors`.
        data_dir: built-in data sets live in `<data_dir>/<source folder>/`; default `default_data_dir()`.
        test_fraction: the share of images held out as the test split, for sources without one (0 < f < 1),
            factor grids included (a share of the images drawn).
            Sources with an official split (mnist, fashion-mnist, binarized-mnist, cifar10) ignore it.
        split_seed: seed of that hold-out; the same seed gives the same split.
        download: fetch missing built-in files (from the official URLs, or $VAEKIT_MIRROR) and verify
            their checksums; when False, missing files raise DataError.
        transforms: resize, crop, grayscale, invert, applied once at load (`vaekit.data.transforms`).

    The result's `levels` is the number of values a pixel takes: each built-in source's own (256 for 8-bit ones,
    17 for digits, 2 for binary ones); for a path, 2 if every pixel is 0 or 1, 256 for integer arrays and image
    files, None (continuous) for float arrays. 8-bit and binary pixels are held as uint8 codes (`ImageData.pixels`
    gives float32). Transforms that make new values (resize, grayscale) make binary data 8-bit, and data with
    levels of their own (digits' 17) continuous.

    Raises DataError for every problem with the input, with a message that names the file and the fix.
    """
    source = os.fspath(source)
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, int | float) or not 0 < test_fraction < 1:
        raise DataError(
            f"test_fraction must be a number strictly between 0 and 1 (the share of images held out for "
            f"testing), got {test_fraction!r}. Fix: use e.g. 0.1."
        )
    transforms = transforms or ImageTransforms()
    spec, size = _builtin(source)
    if spec is not None:
        raw = _read_builtin(spec, _data_root(data_dir), download)
        if isinstance(raw, FactorGrid):
            size = size if size is not None else min(spec.subset_size or raw.size, raw.size)
            data = draw_subset(source, raw, size, test_fraction, split_seed, transforms)
        else:
            data = build_image_data(source, raw, test_fraction, split_seed, transforms)
        if data.levels is None and transforms.is_identity:  # float pixels on a grid of the source's own
            data = dataclasses.replace(data, levels=spec.levels)
        return data
    raw = read_path(_existing_path(source), transforms)
    return build_image_data(source, raw, test_fraction, split_seed, transforms)
