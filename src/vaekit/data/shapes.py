"""dSprites' factor grid drawn procedurally: 64x64 binary sprites with known generative factors.

The grid of Matthey et al. 2017 (dSprites): 3 shapes (square, ellipse, heart) x 6 scales in [0.5, 1]
x 40 orientations in [0, 2 pi] x 32 x 32 positions in [0, 1] = 737280 images. Factor indices are rows
(shape, scale, orientation, pos_x, pos_y) of ints, dSprites' `latents_classes` without its constant color
column; item i of the grid is the combination np.unravel_index(i, FACTOR_SIZES) (pos_y varies fastest, as
in the dSprites file). The drawing is ours, not a pixel copy of dSprites: at scale 1 the square is
21 pixels wide and the ellipse and heart are of similar size, orientation turns a sprite counter-clockwise
about its center, pos_x moves it right and pos_y down, one pixel per step (centers 16..47, so every
sprite fits inside the image at every orientation).

    indices = sample_factors(1000, np.random.default_rng(0))  # (1000, 5)
    images = render(indices)                                   # (1000, 64, 64) bool
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from vaekit.data.types import FactorGrid

FACTOR_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
FACTOR_SIZES = (3, 6, 40, 32, 32)
SHAPE_NAMES = ("square", "ellipse", "heart")
NUM_IMAGES = 737_280  # prod(FACTOR_SIZES)
IMAGE_SIZE = 64
RADIUS = 10.3  # half the side of the square at scale 1, in pixels (not an integer: no pixel on an edge)
_CHUNK = 4096  # images drawn per step of `render`
_HALF = 16  # a sprite is drawn on a (33, 33) patch whose center pixel sits at (16 + pos_y, 16 + pos_x)

# The factor values of dSprites' `latents_values` (shape as 1, 2, 3), one array per factor.
_VALUES = (
    np.arange(1.0, 4.0),
    np.linspace(0.5, 1.0, 6),
    np.linspace(0.0, 2 * np.pi, 40),  # both ends included, as in dSprites: orientations 0 and 39 coincide
    np.linspace(0.0, 1.0, 32),
    np.linspace(0.0, 1.0, 32),
)


def _check_indices(indices: np.ndarray) -> np.ndarray:
    indices = np.asarray(indices)
    if indices.ndim != 2 or indices.shape[1] != len(FACTOR_SIZES) or indices.dtype.kind not in "ui":
        raise ValueError(f"factor indices must be integers of shape (N, 5), got {indices.dtype} {indices.shape}")
    if indices.size and ((indices < 0).any() or (indices >= np.array(FACTOR_SIZES)).any()):
        raise ValueError(f"factor indices must lie in [0, size) for the sizes {FACTOR_SIZES}")
    return indices.astype(np.int64, copy=False)


def factor_values(indices: np.ndarray) -> np.ndarray:
    """dSprites' factor values (float64, (N, 5)) of factor indices (N, 5); shape values are 1, 2, 3."""
    indices = _check_indices(indices)
    return np.stack([values[column] for values, column in zip(_VALUES, indices.T, strict=True)], axis=1)


def sample_factors(n: int, rng: np.random.Generator) -> np.ndarray:
    """n factor combinations drawn uniformly from the grid: int64 indices (n, 5)."""
    return rng.integers(0, FACTOR_SIZES, size=(n, len(FACTOR_SIZES)), dtype=np.int64)


def grid_factors(items: np.ndarray) -> np.ndarray:
    """The factor indices (N, 5) of grid items numbered 0..NUM_IMAGES-1 in dSprites' order (pos_y fastest)."""
    return np.stack(np.unravel_index(np.asarray(items, dtype=np.int64), FACTOR_SIZES), axis=1)


def grid_items(indices: np.ndarray) -> np.ndarray:
    """The grid item numbers (N,) of factor indices (N, 5); the inverse of `grid_factors`."""
    return np.ravel_multi_index(tuple(_check_indices(indices).T), FACTOR_SIZES)


def _inside(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether the points (u, v) of a sprite's frame (v up; in units of RADIUS) are inside the sprite."""
    if shape == "square":  # half side 1: its width grows by 2 pixels per scale step, so every scale differs
        return np.maximum(np.abs(u), np.abs(v)) <= 1.0
    if shape == "ellipse":
        return (u / 1.25) ** 2 + (v / 0.625) ** 2 <= 1.0
    # The heart curve (x^2 + y^2 - 1)^3 = x^2 y^3 spans x in [-1.14, 1.14], y in [-1, 1.24]; centre and fit it.
    x, y = 0.95 * u, 0.95 * v + 0.12
    return (x**2 + y**2 - 1) ** 3 - x**2 * y**3 <= 0.0


@functools.cache
def _patches() -> np.ndarray:
    """Every (shape, scale, orientation) sprite on its centered patch: bool (3, 6, 40, 33, 33), read-only."""
    offsets = np.arange(-_HALF, _HALF + 1, dtype=np.float64)  # (33,) pixels from the center
    dx, dy = offsets[None, :], -offsets[:, None]  # (1, 33) right, (33, 1) up: rows grow downwards
    theta = np.mod(_VALUES[2], 2 * np.pi)[:, None, None]  # (40, 1, 1); 2 pi -> exactly 0
    # Rotating the sprite by theta = reading the pixel grid rotated by -theta in the sprite's frame.
    u = np.cos(theta) * dx + np.sin(theta) * dy  # (40, 33, 33)
    v = -np.sin(theta) * dx + np.cos(theta) * dy
    radius = (RADIUS * _VALUES[1])[:, None, None, None]  # (6, 1, 1, 1)
    patches = np.stack([_inside(name, u / radius, v / radius) for name in SHAPE_NAMES])  # (3, 6, 40, 33, 33)
    patches.flags.writeable = False
    return patches


def render(indices: np.ndarray) -> np.ndarray:
    """The sprites of factor indices (N, 5) (columns as FACTOR_NAMES): bool images (N, 64, 64)."""
    indices = _check_indices(indices)
    n = len(indices)
    images = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE), dtype=bool)
    size = 2 * _HALF + 1
    # windows[i, r, c] is the (33, 33) view of image i whose top-left pixel is (r, c); each image gets one
    # write, so the overlapping views never conflict.
    windows = sliding_window_view(images, (size, size), axis=(1, 2), writeable=True)  # (N, 32, 32, 33, 33)
    patches = _patches()
    for start in range(0, n, _CHUNK):  # chunks keep the gathered patches small
        shape, scale, orientation, pos_x, pos_y = indices[start : start + _CHUNK].T
        rows = np.arange(start, start + len(shape))
        windows[rows, pos_y, pos_x] = patches[shape, scale, orientation]
    return images


def _take(items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    indices = grid_factors(items)  # (n, 5)
    return render(indices), indices


def read_shapes(paths: dict[str, Path]) -> FactorGrid:
    """The built-in source `shapes`: the whole grid, rendered on demand (no files)."""
    return FactorGrid(NUM_IMAGES, _take, "the procedural dSprites grid (vaekit.data.shapes)")
