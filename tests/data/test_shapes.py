"""The procedural dSprites grid (`shapes`), the dSprites file reader (`dsprites`) and their seeded subsets."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from vaekit.data import SOURCES, ImageData, list_sources, load_data
from vaekit.data import dsprites as dsprites_module
from vaekit.data.dsprites import DSPRITES_FILE, DSPRITES_URL
from vaekit.data.shapes import (
    FACTOR_NAMES,
    FACTOR_SIZES,
    NUM_IMAGES,
    factor_values,
    grid_factors,
    grid_items,
    render,
    sample_factors,
)
from vaekit.errors import DataError


def _one(shape: int, scale: int, orientation: int, pos_x: int, pos_y: int) -> np.ndarray:
    return render(np.array([[shape, scale, orientation, pos_x, pos_y]]))[0]  # (64, 64)


def _centroid(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.nonzero(image)
    return rows.mean(), cols.mean()


def test_the_full_grid_has_737280_items_numbered_as_in_dsprites() -> None:
    assert math.prod(FACTOR_SIZES) == NUM_IMAGES == 737_280 and len(FACTOR_NAMES) == len(FACTOR_SIZES) == 5
    assert grid_factors(np.array([1, NUM_IMAGES - 1])).tolist() == [[0, 0, 0, 0, 1], [2, 5, 39, 31, 31]]
    items = np.random.default_rng(0).integers(0, NUM_IMAGES, 1000)
    assert np.array_equal(grid_items(grid_factors(items)), items)


def test_factor_values_are_those_of_dsprites() -> None:
    values = factor_values(np.array([[0, 0, 0, 0, 0], [2, 5, 39, 31, 31], [1, 1, 1, 1, 1]]))
    np.testing.assert_allclose(values[0], [1, 0.5, 0, 0, 0])
    np.testing.assert_allclose(values[1], [3, 1, 2 * np.pi, 1, 1])
    np.testing.assert_allclose(values[2], [2, 0.6, 2 * np.pi / 39, 1 / 31, 1 / 31])


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_pos_x_moves_the_sprite_right_and_pos_y_down(shape: int) -> None:
    along_x = [_centroid(_one(shape, 3, 7, x, 12)) for x in range(32)]
    cols = np.array([c for _, c in along_x])
    np.testing.assert_allclose(np.diff(cols), 1.0)  # one pixel per step, the sprite otherwise unchanged
    np.testing.assert_allclose([r for r, _ in along_x], along_x[0][0])
    rows = np.array([_centroid(_one(shape, 3, 7, 12, y))[0] for y in range(32)])
    np.testing.assert_allclose(np.diff(rows), 1.0)


def test_every_sprite_fits_inside_the_image() -> None:
    corners = np.array([[s, 5, o, x, y] for s in range(3) for o in range(40) for x in (0, 31) for y in (0, 31)])
    big = np.array([[s, 5, o, 15, 15] for s in range(3) for o in range(40) for x in (0, 31) for y in (0, 31)])
    assert np.array_equal(render(corners).sum((1, 2)), render(big).sum((1, 2)))  # nothing cut off at the edges


def test_scale_increases_the_area_at_every_shape_and_orientation() -> None:
    factors = grid_factors(np.arange(NUM_IMAGES // 1024) * 1024 + 16 * 32 + 16)  # every sprite at pos (16, 16)
    areas = render(factors).sum((1, 2)).reshape(3, 6, 40)
    assert (np.diff(areas, axis=1) > 0).all()


def test_the_three_shapes_differ_at_equal_scale_orientation_and_position() -> None:
    images = render(np.array([[s, 4, 3, 10, 20] for s in range(3)]))
    assert all(images[i].any() and not np.array_equal(images[i], images[j]) for i in range(3) for j in range(i))


def test_orientation_2pi_is_orientation_0_and_neighbours_are_close() -> None:
    first = render(np.array([[s, c, 0, 9, 21] for s in range(3) for c in range(6)]))
    last = render(np.array([[s, c, 39, 9, 21] for s in range(3) for c in range(6)]))
    before = render(np.array([[s, c, 38, 9, 21] for s in range(3) for c in range(6)]))
    assert np.array_equal(first, last)
    assert ((before != last).sum((1, 2)) < 0.3 * last.sum((1, 2))).all()  # a 9 degree turn moves few pixels
    heart = [_one(2, 5, o, 16, 16) for o in (0, 10)]
    assert not np.array_equal(*heart)  # a heart has no rotational symmetry


def test_render_is_deterministic_and_checks_its_input() -> None:
    factors = sample_factors(500, np.random.default_rng(1))
    assert factors.shape == (500, 5) and (factors >= 0).all() and (factors < np.array(FACTOR_SIZES)).all()
    assert np.array_equal(factors, sample_factors(500, np.random.default_rng(1)))
    images = render(factors)
    assert images.shape == (500, 64, 64) and images.dtype == bool
    assert np.array_equal(images, render(factors)) and np.array_equal(images[::-1], render(factors[::-1]))
    with pytest.raises(ValueError, match=r"\[0, size\)"):
        render(np.array([[3, 0, 0, 0, 0]]))
    with pytest.raises(ValueError, match=r"\(N, 5\)"):
        render(np.zeros((2, 4), int))


def test_shapes_subset_sizes_follow_the_source_string_and_test_fraction() -> None:
    data = load_data("shapes:300", test_fraction=0.2, split_seed=4)
    assert (len(data.train), len(data.test)) == (240, 60) and data.shape == (1, 64, 64) and data.is_binary
    items = [set(grid_items(f.numpy()).tolist()) for f in (data.train_factors, data.test_factors)]
    assert len(items[0]) == 240 and len(items[1]) == 60 and not items[0] & items[1]  # drawn without replacement
    assert SOURCES["shapes"].subset_size == 100_000  # the size of plain "shapes"


def test_shapes_subset_is_deterministic_in_split_seed() -> None:
    a, b = load_data("shapes:200", split_seed=1), load_data("shapes:200", split_seed=1)
    c = load_data("shapes:200", split_seed=2)
    assert torch.equal(a.train, b.train) and torch.equal(a.test_factors, b.test_factors)
    assert not torch.equal(a.train_factors, c.train_factors)


def test_factors_align_with_images_and_labels() -> None:
    data = load_data("shapes:200", split_seed=5)
    for images, factors, labels in (
        (data.pixels("train"), data.train_factors, data.train_labels),
        (data.pixels("test"), data.test_factors, data.test_labels),
    ):
        assert factors.dtype == torch.int64 and factors.shape == (len(images), 5)
        assert torch.equal(torch.from_numpy(render(factors.numpy())).float(), images[:, 0])
        assert torch.equal(labels, factors[:, 0])  # labels are the shape


@pytest.mark.parametrize("bad", ["shapes:", "shapes:1e4", "shapes:-5"])
def test_a_malformed_subset_size_is_a_data_error(bad: str) -> None:
    with pytest.raises(DataError, match="number of images"):
        load_data(bad)


@pytest.mark.parametrize("size", ["1", "737281"])
def test_a_subset_size_out_of_range_is_a_data_error(size: str) -> None:
    with pytest.raises(DataError, match="between 2 and 737280"):
        load_data(f"shapes:{size}")


def test_image_data_checks_its_factors() -> None:
    x = torch.zeros(2, 1, 4, 4)
    with pytest.raises(DataError, match="factors must be int64 of shape"):
        ImageData("x", x, x, train_factors=torch.zeros(3, 5, dtype=torch.int64))
    with pytest.raises(DataError, match="same factors"):
        ImageData("x", x, x, train_factors=torch.zeros(2, 5, dtype=torch.int64))


def _write_fake_dsprites(folder: Path, items: np.ndarray) -> Path:
    """A small dSprites-like .npz with the real file's keys (its pickled metadata included)."""
    factors = grid_factors(items)  # (n, 5)
    classes = np.concatenate([np.zeros((len(items), 1), np.int64), factors], axis=1)  # color column first
    values = np.concatenate([np.ones((len(items), 1)), factor_values(factors)], axis=1)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DSPRITES_FILE
    metadata = np.array({"latents_sizes": np.array([1, *FACTOR_SIZES])}, dtype=object)
    np.savez_compressed(
        path,
        imgs=render(factors).astype(np.uint8),
        latents_values=values,
        latents_classes=classes,
        metadata=metadata,
    )
    return path


@pytest.mark.parametrize("chunk_bytes", [1 << 20, 3 * 4096])  # one chunk; chunks of 3 images
def test_a_tiny_fake_dsprites_file_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int) -> None:
    monkeypatch.setattr(dsprites_module, "_CHUNK_BYTES", chunk_bytes)
    items = np.sort(np.random.default_rng(0).choice(NUM_IMAGES, 40, replace=False))
    _write_fake_dsprites(tmp_path / "dsprites", items)
    assert {i.name: i.present for i in list_sources(tmp_path)}["dsprites"]
    data = load_data("dsprites", data_dir=tmp_path, download=False, test_fraction=0.25)  # all 40 rows
    assert (len(data.train), len(data.test)) == (30, 10) and data.is_binary and data.shape == (1, 64, 64)
    for images, factors in ((data.pixels("train"), data.train_factors), (data.pixels("test"), data.test_factors)):
        assert torch.equal(torch.from_numpy(render(factors.numpy())).float(), images[:, 0])
    assert sorted(grid_items(torch.cat([data.train_factors, data.test_factors]).numpy())) == items.tolist()
    small = load_data("dsprites:10", data_dir=tmp_path, download=False, test_fraction=0.2)
    assert (len(small.train), len(small.test)) == (8, 2)


def test_a_missing_dsprites_file_says_where_to_put_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAEKIT_MIRROR")
    assert not {i.name: i.present for i in list_sources(tmp_path)}["dsprites"]
    with pytest.raises(DataError, match="does not download") as err:
        load_data("dsprites", data_dir=tmp_path)
    assert str(tmp_path / "dsprites") in str(err.value) and DSPRITES_URL in str(err.value)


def test_a_damaged_dsprites_file_is_a_data_error(tmp_path: Path) -> None:
    path = _write_fake_dsprites(tmp_path / "dsprites", np.arange(20))
    path.write_bytes(path.read_bytes()[:-300])
    with pytest.raises(DataError, match="delete it and get it again") as err:
        load_data("dsprites", data_dir=tmp_path, download=False)
    assert str(path) in str(err.value)
