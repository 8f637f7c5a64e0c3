"""Arrays of images -> the tensors vaekit trains on: layout, dtype and range checks, hold-out splits.

Accepted layouts: (N, H, W) grayscale; (N, C, H, W) when axis 1 is 1 or 3 (channels-first, PyTorch's
order, preferred when both readings fit); else (N, H, W, C) when the last axis is 1 or 3 (channels-last,
as Pillow and NumPy image code write them). Four channels (RGBA) are refused rather than silently dropped.

Accepted values: bool; integers in [0, 255] (divided by 255, except that integer arrays whose values are
all 0 or 1 are taken as binary pixels, as binarized MNIST is often stored); floats already in [0, 1]; floats that
are whole numbers in [0, 255] (8-bit values saved as floats: read as 8-bit, with a warning). 8-bit and binary
pixels are held as uint8 codes (`store_images`), converted to float32 per batch (`to_unit`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from vaekit.data.transforms import ImageTransforms
from vaekit.data.types import ImageData, LoadInfo, RawData, Split, to_unit
from vaekit.errors import DataError

ACCEPTED_SHAPES = "(N, H, W), (N, C, H, W) or (N, H, W, C) with C = 1 (grayscale) or 3 (RGB)"


def channels_first(x: np.ndarray, origin: str) -> np.ndarray:
    """A view of `x` as (N, C, H, W); see the module docstring for how the layout is decided."""
    if x.ndim == 3:
        return x[:, None]  # (N, H, W) -> (N, 1, H, W)
    if x.ndim == 4 and x.shape[1] in (1, 3):
        return x
    if x.ndim == 4 and x.shape[3] in (1, 3):
        return x.transpose(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
    if x.ndim == 4 and 4 in (x.shape[1], x.shape[3]):
        raise DataError(
            f"{origin} holds images with 4 channels (shape {x.shape}), probably RGBA; vaekit reads 1 or 3 "
            f"channels. Fix: drop the alpha channel (x[..., :3] for (N, H, W, 4), x[:, :3] for (N, 4, H, W)) "
            f"and save the array again."
        )
    hint = ""
    if x.ndim == 2 and x.shape[1] > 0 and math.isqrt(x.shape[1]) ** 2 == x.shape[1]:
        side = math.isqrt(x.shape[1])
        hint = f" If each row is a flattened {side}x{side} image, save x.reshape(-1, {side}, {side}) instead."
    raise DataError(
        f"{origin} holds an array of shape {x.shape}, which is not a batch of images. "
        f"Accepted shapes: {ACCEPTED_SHAPES}.{hint}"
    )


def _value_kind(x: np.ndarray, origin: str) -> str:
    """How `x` holds pixels: 'binary' (bool, or integers all 0 or 1), 'int8' (integers in [0, 255]), 'float'
    (floats in [0, 1]) or 'float255' (whole-number floats above 1, at most 255: 8-bit values stored as floats).
    Raises DataError for anything else."""
    kind = x.dtype.kind
    if kind == "b":
        return "binary"
    if kind in "ui":
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi > 255:
            raise DataError(
                f"{origin} holds integer pixels in [{lo}, {hi}]; integer images must be 8-bit values in "
                f"[0, 255]. Fix: rescale them to uint8 in [0, 255], or to floats in [0, 1], and save again."
            )
        return "binary" if hi <= 1 else "int8"
    if kind == "f":
        bad = int(np.count_nonzero(~np.isfinite(x)))
        if bad:
            raise DataError(
                f"{origin} holds {bad} NaN or infinite pixel values (of {x.size}). "
                f"Fix: repair or drop the images that contain them and save the array again."
            )
        lo, hi = float(x.min()), float(x.max())
        if 0.0 <= lo and hi <= 1.0:
            return "float"
        if 0.0 <= lo and hi <= 255.0 and bool(np.all(x == np.round(x))):
            return "float255"
        raise DataError(
            f"{origin} holds float pixels in [{lo:g}, {hi:g}]; float images must lie in [0, 1] (or be whole "
            f"numbers in [0, 255], read as 8-bit values). Fix: scale them first (x / 255 for 8-bit values) and "
            "save the array again."
        )
    raise DataError(
        f"{origin} holds values of dtype {x.dtype}, which are not pixels. "
        f"Fix: save the images as uint8 in [0, 255], as bool, or as floats in [0, 1]."
    )


class StoredImages(NamedTuple):
    """Image arrays as vaekit holds them: uint8 codes v in 0..levels-1 (the pixel is v / (levels - 1)) where the
    source is 8-bit or binary, 4x smaller than float32 and converted per batch; float32 in [0, 1] otherwise."""

    tensors: list[torch.Tensor]  # one (N, C, H, W) per array, uint8 or float32
    levels: int | None  # 256 or 2 for uint8 codes; None for float32
    values: str  # how the source's values were mapped, for the load summary
    warnings: list[str]


_CHUNK = 2048  # images converted and transformed per step: the peak is one chunk beside the result


def store_images(parts: Sequence[tuple[np.ndarray, str]], transforms: ImageTransforms | None = None) -> StoredImages:
    """Validate the image arrays of one data set, given as (array, origin) pairs, transform and store them.

    All arrays share one scale (a test split that happens to hold only 0s and 1s is scaled like its train split).
    Binary pixels become 8-bit (0 or 255) when a transform can make new values (resize, grayscale).
    """
    transforms = transforms or ImageTransforms()
    arrays = []
    for x, origin in parts:
        if x.size == 0:
            raise DataError(f"{origin} holds no images (shape {x.shape}). Fix: give a non-empty array.")
        x = channels_first(x, origin)  # (N, C, H, W)
        arrays.append((x, origin, _value_kind(x, origin)))
    (first, first_origin, _), *rest = arrays
    for x, origin, _ in rest:
        if x.shape[1:] != first.shape[1:]:
            raise DataError(
                f"{first_origin} holds images of shape {first.shape[1:]} (C, H, W) but {origin} holds "
                f"{x.shape[1:]}; train and test images must have one shape. Fix: resize one split to match "
                "(or set data.resize)."
            )
    kinds = {kind for _, _, kind in arrays}
    warnings = []
    if "float255" in kinds:
        warnings.append(
            f"{', '.join(o for _, o, k in arrays if k == 'float255')}: float pixels that are whole numbers in "
            "[0, 255] look like 8-bit values stored as floats; they were read as 8-bit (divided by 255). If they "
            "are not, scale them to [0, 1] yourself."
        )
    if kinds <= {"binary"}:
        levels, values = 2, "binary pixels (0 or 1)"
        if transforms.changes_values:
            levels, values = 256, "binary pixels (0 or 1), made 8-bit (0 or 255) for the transforms"
    elif kinds <= {"binary", "int8", "float255"}:
        levels, values = 256, f"{'/'.join(sorted({str(x.dtype) for x, _, _ in arrays}))} values 0..255, divided by 255"
    else:
        levels, values = None, "float values in [0, 1], kept as float32"
    upscale = levels == 256 and kinds <= {"binary"}  # binary made 8-bit for the transforms
    tensors = [
        _store(x, kind, levels, 255 if upscale or x.dtype.kind == "b" else 1, transforms) for x, _, kind in arrays
    ]
    if levels == 256 and all(_only_extremes(t, 255) for t in tensors):  # e.g. binary images saved as 0/255 PNGs
        tensors = [t // 255 for t in tensors]
        levels, values = 2, values + "; every pixel is 0 or 255: binary"
    return StoredImages(tensors, levels, values, warnings)


def _store(x: np.ndarray, kind: str, levels: int | None, scale: int, transforms: ImageTransforms) -> torch.Tensor:
    """One (N, C, H, W) array as uint8 codes (levels set; values times `scale`) or float32, transformed chunk by
    chunk."""
    dtype = np.uint8 if levels else np.float32
    scale = scale if levels == 256 else 1
    divide = 255.0 if levels is None and kind in ("int8", "float255") else 1.0  # 8-bit among floats
    if x.dtype == dtype and scale == 1 and divide == 1.0 and transforms.is_identity and x.flags.c_contiguous:
        return torch.from_numpy(x if x.flags.writeable else x.copy())  # already as stored: no second copy
    c, h, w = transforms.output_shape(x.shape[1:], "the images")
    out = np.empty((x.shape[0], c, h, w), dtype=dtype)
    for start in range(0, x.shape[0], _CHUNK):
        chunk = x[start : start + _CHUNK]
        chunk = chunk.astype(dtype) * dtype(scale) if scale != 1 else chunk.astype(dtype, copy=False)
        if divide != 1.0:
            chunk = chunk / dtype(divide)
        out[start : start + _CHUNK] = transforms.apply(chunk, (levels or 2) - 1.0)
    return torch.from_numpy(out)


def _only_extremes(x: torch.Tensor, top: int) -> bool:
    """Every value is 0 or `top`; the first images decide quickly for data that is not so."""
    flat = x.reshape(-1)
    head = flat[: 1 << 16]
    return bool(((head == 0) | (head == top)).all()) and bool(((flat == 0) | (flat == top)).all())


def images_to_tensors(parts: Sequence[tuple[np.ndarray, str]]) -> list[torch.Tensor]:
    """Validate image arrays given as (array, origin) pairs; one float32 tensor (N, C, H, W) in [0, 1] each."""
    stored = store_images(parts)
    return [to_unit(t, stored.levels).contiguous() for t in stored.tensors]


def labels_to_tensor(y: np.ndarray, n: int, origin: str) -> torch.Tensor:
    """Validate one integer label per image and return them as an int64 tensor (N,)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != n:
        raise DataError(
            f"{origin} holds labels of shape {y.shape} for {n} images; labels must be one integer per "
            f"image, shape ({n},). Fix: save labels that match the images one to one."
        )
    if y.dtype.kind not in "uib":
        raise DataError(
            f"{origin} holds labels of dtype {y.dtype}; labels must be integers. Fix: save them with .astype('int64')."
        )
    return torch.from_numpy(y.astype(np.int64))


def holdout_indices(n: int, test_fraction: float, seed: int, origin: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, test) indices of a seeded random hold-out of round(n * test_fraction) items (>= 1)."""
    if n < 2:
        raise DataError(
            f"{origin} holds {n} image; holding out a test split needs at least 2. "
            f"Fix: add images, or give separate train and test splits."
        )
    n_test = min(max(round(n * test_fraction), 1), n - 1)
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def _labels(split: Split, n: int) -> torch.Tensor | None:
    if split.labels is None:
        return None
    return labels_to_tensor(split.labels, n, split.labels_origin or split.origin)


def split_note(held_out: bool, test_fraction: float, split_seed: int) -> str:
    """Where the test split comes from, for the load summary."""
    if held_out:
        return f"test held out at random: {test_fraction:g} of the images, data.split_seed {split_seed}"
    return "the source's own train/test split"


def _all_binary(x: torch.Tensor) -> bool:
    return _only_extremes(x, 1)


def build_image_data(
    name: str, raw: RawData, test_fraction: float, split_seed: int, transforms: ImageTransforms | None = None
) -> ImageData:
    """Validate what a reader found and assemble an ImageData, holding out a test split when there is none.

    Labels are kept only when every split has them, so downstream code sees both or neither.
    """
    transforms = transforms or ImageTransforms()
    splits = [raw.train] if raw.test is None else [raw.train, raw.test]
    read = tuple(f"{s.origin} {tuple(s.images.shape)} {s.images.dtype}" for s in splits)
    stored = store_images([(s.images, s.origin) for s in splits], None if raw.transformed else transforms)
    train_x = stored.tensors[0]  # (N, C, H, W)
    train_y = _labels(raw.train, len(train_x))
    if raw.test is None:
        train_idx, test_idx = holdout_indices(len(train_x), test_fraction, split_seed, raw.train.origin)
        train_idx, test_idx = torch.from_numpy(train_idx), torch.from_numpy(test_idx)
        test_x, train_x = train_x[test_idx], train_x[train_idx]
        test_y, train_y = (None, None) if train_y is None else (train_y[test_idx], train_y[train_idx])
        split = split_note(True, test_fraction, split_seed)
    else:
        test_x = stored.tensors[1]  # (M, C, H, W)
        test_y = _labels(raw.test, len(test_x))
        if train_y is None or test_y is None:
            train_y = test_y = None
        split = split_note(False, test_fraction, split_seed)
    levels, values = stored.levels, stored.values
    top = 1 if levels is None else levels - 1
    is_binary = _only_extremes(train_x, top) and _only_extremes(test_x, top)
    if is_binary and levels is None:  # float pixels that are all 0 or 1: held as codes, like bool arrays
        train_x, test_x, levels = train_x.to(torch.uint8), test_x.to(torch.uint8), 2
        values += "; every pixel is 0 or 1: binary"
    value_range = (
        min(float(train_x.min()), float(test_x.min())) / top,
        max(float(train_x.max()), float(test_x.max())) / top,
    )
    info = LoadInfo(read, values, transforms.describe(), split, tuple(stored.warnings), value_range, raw.notes)
    return ImageData(name, train_x, test_x, train_y, test_y, is_binary, levels=levels, info=info)


def binarize(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Binary pixels drawn with P(pixel = 1) = intensity; x (N, C, H, W) in [0, 1] -> same shape in {0, 1}."""
    return torch.bernoulli(x, generator=generator)
