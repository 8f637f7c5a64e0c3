"""Arrays of images -> the tensors vaekit trains on: layout, dtype and range checks, hold-out splits.

Accepted layouts: (N, H, W) grayscale; (N, C, H, W) when axis 1 is 1 or 3 (channels-first, PyTorch's
order, preferred when both readings fit); else (N, H, W, C) when the last axis is 1 or 3 (channels-last,
as Pillow and NumPy image code write them). Four channels (RGBA) are refused rather than silently dropped.

Accepted values: bool; integers in [0, 255] (divided by 255, except that integer arrays whose values are
all 0 or 1 are taken as binary pixels, as binarized MNIST is often stored); floats already in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from vaekit.data.types import ImageData, RawData, Split
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


def _check_values(x: np.ndarray, origin: str) -> None:
    """Raise DataError unless `x` holds valid pixels for its dtype (see the module docstring)."""
    kind = x.dtype.kind
    if kind == "b":
        return
    if kind in "ui":
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi > 255:
            raise DataError(
                f"{origin} holds integer pixels in [{lo}, {hi}]; integer images must be 8-bit values in "
                f"[0, 255]. Fix: rescale them to uint8 in [0, 255], or to floats in [0, 1], and save again."
            )
        return
    if kind == "f":
        bad = int(np.count_nonzero(~np.isfinite(x)))
        if bad:
            raise DataError(
                f"{origin} holds {bad} NaN or infinite pixel values (of {x.size}). "
                f"Fix: repair or drop the images that contain them and save the array again."
            )
        lo, hi = float(x.min()), float(x.max())
        if lo < 0.0 or hi > 1.0:
            raise DataError(
                f"{origin} holds float pixels in [{lo:g}, {hi:g}]; float images must lie in [0, 1]. "
                f"Fix: scale them first (x / 255 for 8-bit values) and save the array again."
            )
        return
    raise DataError(
        f"{origin} holds values of dtype {x.dtype}, which are not pixels. "
        f"Fix: save the images as uint8 in [0, 255], as bool, or as floats in [0, 1]."
    )


def images_to_tensors(parts: Sequence[tuple[np.ndarray, str]]) -> list[torch.Tensor]:
    """Validate the image arrays of one data set, given as (array, origin) pairs, and convert them.

    Returns one float32 tensor (N, C, H, W) in [0, 1] per array. Integer arrays share one scale, so a
    test split that happens to hold only 0s and 1s is scaled like its train split.
    """
    arrays = []
    for x, origin in parts:
        if x.size == 0:
            raise DataError(f"{origin} holds no images (shape {x.shape}). Fix: give a non-empty array.")
        x = channels_first(x, origin)  # (N, C, H, W)
        _check_values(x, origin)
        arrays.append((x, origin))
    (first, first_origin), *rest = arrays
    for x, origin in rest:
        if x.shape[1:] != first.shape[1:]:
            raise DataError(
                f"{first_origin} holds images of shape {first.shape[1:]} (C, H, W) but {origin} holds "
                f"{x.shape[1:]}; train and test images must have one shape. Fix: resize one split to match."
            )
    integer_max = max((int(x.max()) for x, _ in arrays if x.dtype.kind in "ui"), default=0)
    scale = 255.0 if integer_max > 1 else 1.0
    tensors = []
    for x, _ in arrays:
        out = np.require(x, dtype=np.float32, requirements=["C", "W"])  # copies unless already float32
        if x.dtype.kind in "ui" and scale != 1.0:
            out /= scale
        tensors.append(torch.from_numpy(out))
    return tensors


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


def _all_binary(x: torch.Tensor) -> bool:
    """Every value is exactly 0 or 1; the first images decide quickly for data that is not binary."""
    flat = x.reshape(-1)
    head = flat[: 1 << 16]
    return bool(((head == 0) | (head == 1)).all()) and bool(((flat == 0) | (flat == 1)).all())


def build_image_data(name: str, raw: RawData, test_fraction: float, split_seed: int) -> ImageData:
    """Validate what a reader found and assemble an ImageData, holding out a test split when there is none.

    Labels are kept only when every split has them, so downstream code sees both or neither.
    """
    parts = [(raw.train.images, raw.train.origin)]
    if raw.test is not None:
        parts.append((raw.test.images, raw.test.origin))
    tensors = images_to_tensors(parts)
    train_x = tensors[0]  # (N, C, H, W)
    train_y = _labels(raw.train, len(train_x))
    if raw.test is None:
        train_idx, test_idx = holdout_indices(len(train_x), test_fraction, split_seed, raw.train.origin)
        train_idx, test_idx = torch.from_numpy(train_idx), torch.from_numpy(test_idx)
        test_x, train_x = train_x[test_idx], train_x[train_idx]
        test_y, train_y = (None, None) if train_y is None else (train_y[test_idx], train_y[train_idx])
    else:
        test_x = tensors[1]  # (M, C, H, W)
        test_y = _labels(raw.test, len(test_x))
        if train_y is None or test_y is None:
            train_y = test_y = None
    is_binary = _all_binary(train_x) and _all_binary(test_x)
    return ImageData(name, train_x, test_x, train_y, test_y, is_binary)


def binarize(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Binary pixels drawn with P(pixel = 1) = intensity; x (N, C, H, W) in [0, 1] -> same shape in {0, 1}."""
    return torch.bernoulli(x, generator=generator)
