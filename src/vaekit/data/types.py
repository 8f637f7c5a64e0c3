"""Value types of the data package: a loaded data set, a built-in source's listing, raw reader output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from vaekit.errors import DataError


def to_unit(x: torch.Tensor, levels: int | None) -> torch.Tensor:
    """Stored pixels as the model sees them: uint8 codes -> float32 v / (levels - 1); float32 as it is."""
    if x.dtype != torch.uint8:
        return x
    if levels is None or levels < 2:
        raise ValueError(f"uint8 pixels need their number of levels, got {levels}")
    return x.float().div_(levels - 1)


@dataclass(frozen=True)
class LoadInfo:
    """What loading did, for the summary `vaekit train` prints (`vaekit.data.summary`)."""

    read: tuple[str, ...]  # each array or folder read: "origin (shape) dtype"
    values: str  # how the source's values map to [0, 1]
    transforms: str  # the load-time transforms applied, or "none"
    split: str  # where the test split comes from
    warnings: tuple[str, ...] = ()  # noticed while reading (e.g. 8-bit values stored as floats)
    value_range: tuple[float, float] | None = None  # the smallest and largest pixel in [0, 1], over both splits
    notes: tuple[str, ...] = ()  # what the reader changed that the summary states (grayscale images made RGB)


@dataclass(frozen=True, eq=False)  # eq=False: `==` on tensor fields has no single truth value
class ImageData:
    """A train/test pair of image tensors (N, C, H, W), optional labels and factors, and the number of values a
    pixel takes (`levels`).

    Pixels are held as uint8 codes v in 0..levels-1 (the pixel is v / (levels - 1)) where the source is 8-bit or
    binary, else as float32 in [0, 1]; `pixels(split)` gives float32 in [0, 1] either way.
    """

    name: str  # the source as given to `load_data`
    train: torch.Tensor  # (N, C, H, W) uint8 codes or float32, contiguous; on disk when streamed (DiskImages)
    test: torch.Tensor  # (M, C, H, W) the same dtype
    train_labels: torch.Tensor | None = None  # (N,) int64
    test_labels: torch.Tensor | None = None  # (M,) int64
    is_binary: bool = False  # every pixel is exactly 0 or 1
    train_factors: torch.Tensor | None = None  # (N, K) int64 indices of the generative factors, e.g. dSprites'
    test_factors: torch.Tensor | None = None  # (M, K) int64
    # The values a pixel takes, x = v / (levels - 1) for v = 0..levels-1: 256 for 8-bit images, 17 for scikit-learn's
    # digits, 2 for binary pixels; None for continuous data (float pixels). Decides how likelihoods are reported.
    levels: int | None = None
    info: LoadInfo | None = None  # what loading did (None: built by hand)

    def __post_init__(self) -> None:
        for split, x, y, f in (
            ("train", self.train, self.train_labels, self.train_factors),
            ("test", self.test, self.test_labels, self.test_factors),
        ):
            if x.ndim != 4 or x.dtype not in (torch.float32, torch.uint8):
                raise DataError(
                    f"data set '{self.name}': the {split} images must be a float32 or uint8 tensor of shape "
                    f"(N, C, H, W), got {x.dtype} of shape {tuple(x.shape)}."
                )
            if x.dtype == torch.uint8 and not (self.levels and 2 <= self.levels <= 256):
                raise DataError(
                    f"data set '{self.name}': uint8 {split} images are codes 0..levels-1 and need levels in "
                    f"[2, 256], got levels={self.levels}."
                )
            if y is not None and (y.dtype != torch.int64 or tuple(y.shape) != (x.shape[0],)):
                raise DataError(
                    f"data set '{self.name}': the {split} labels must be int64 of shape ({x.shape[0]},), "
                    f"got {y.dtype} of shape {tuple(y.shape)}."
                )
            if f is not None and (f.dtype != torch.int64 or f.ndim != 2 or f.shape[0] != x.shape[0]):
                raise DataError(
                    f"data set '{self.name}': the {split} factors must be int64 of shape ({x.shape[0]}, K), "
                    f"got {f.dtype} of shape {tuple(f.shape)}."
                )
        train_k, test_k = (None if f is None else f.shape[1] for f in (self.train_factors, self.test_factors))
        if train_k != test_k:
            raise DataError(
                f"data set '{self.name}': train and test need the same factors, got {train_k} and {test_k} "
                f"factor columns (None: no factors)."
            )
        if self.train.shape[1:] != self.test.shape[1:]:
            raise DataError(
                f"data set '{self.name}': train images are {tuple(self.train.shape[1:])} (C, H, W) "
                f"but test images are {tuple(self.test.shape[1:])}; both splits need one image shape."
            )

    def pixels(self, split: str) -> torch.Tensor:
        """The `split` ("train" or "test") as float32 in [0, 1], (N, C, H, W): a converted copy of uint8 codes."""
        x = self.train if split == "train" else self.test
        return to_unit(x if isinstance(x, torch.Tensor) else x[:], self.levels)  # on disk (DiskImages): read whole

    @property
    def shape(self) -> tuple[int, int, int]:
        """The shape of one image, (C, H, W)."""
        c, h, w = self.train.shape[1:]
        return (c, h, w)

    def __repr__(self) -> str:
        labels = "with labels" if self.train_labels is not None else "no labels"
        factors = f", {self.train_factors.shape[1]} factors" if self.train_factors is not None else ""
        return (
            f"ImageData(name={self.name!r}, train={tuple(self.train.shape)}, test={tuple(self.test.shape)}, "
            f"{labels}{factors}, is_binary={self.is_binary}, levels={self.levels})"
        )


@dataclass(frozen=True)
class SourceInfo:
    """One built-in source, for `vaekit datasets`: where its files go and whether all of them are there."""

    name: str
    description: str
    directory: Path | None  # None: the data ship with a library (no files to fetch)
    files: tuple[str, ...]  # the file names expected in `directory`
    present: bool  # all files are in `directory` (always True when there are none)
    downloadable: bool = True  # vaekit fetches missing files itself (False: the user must place them)


class Split(NamedTuple):
    """Images and labels of one split as a reader found them, before validation."""

    images: np.ndarray  # (N, H, W), (N, H, W, C) or (N, C, H, W), any accepted dtype
    labels: np.ndarray | None  # (N,) integers
    origin: str  # where the images came from, for error messages (a path, or path['key'])
    labels_origin: str | None = None  # where the labels came from, when not `origin`


class RawData(NamedTuple):
    """What a reader returns: a train split and, when the source defines one, a test split."""

    train: Split
    test: Split | None  # None: hold out a fraction of `train`
    transformed: bool = False  # the reader already applied the load-time transforms (image by image)
    notes: tuple[str, ...] = ()  # what the reader changed in decoding, for the load summary (LoadInfo.notes)


class FactorGrid(NamedTuple):
    """What the reader of a factor data set returns: every combination of its factors, read on demand.

    Such a set is too large to load whole (dSprites: 737280 images, 12 GB as float32), so `load_data` draws
    a subset of it (see `vaekit.data.dsprites.draw_subset`).
    """

    size: int  # the number of items (factor combinations)
    take: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # sorted item indices (n,) -> (n, H, W), (n, K)
    origin: str  # where the images come from, for error messages
