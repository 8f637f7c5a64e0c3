"""The glue between a run and the metrics: factor indices -> the grid's images, in the caller's order."""

import numpy as np
import pytest
import torch

from vaekit.data.shapes import FACTOR_SIZES, NUM_IMAGES, grid_items, render, sample_factors
from vaekit.data.sources import load_factor_grid
from vaekit.data.types import FactorGrid
from vaekit.workflow.disentanglement import grid_code_table, grid_images, images_needed


def fake_file_grid(calls: list) -> FactorGrid:
    """A grid of 2x8 images that spell out each item's number in bits, counting the calls of `take`."""
    bits = np.arange(16).reshape(2, 8)

    def take(items: np.ndarray):
        calls.append(len(items))
        return ((items[:, None, None] >> bits) & 1).astype(np.uint8), None

    return FactorGrid(NUM_IMAGES, take, "fake")


def test_rendered_images_follow_the_order_of_the_factors_given():
    factors = sample_factors(50, np.random.default_rng(0))
    factors = np.concatenate([factors, factors[::-1]])  # repeats and any order
    images = grid_images(load_factor_grid("shapes:10"))(factors)
    np.testing.assert_array_equal(images, render(factors))


def test_preloaded_grid_reads_once_and_matches_reading_on_demand():
    calls: list = []
    grid = fake_file_grid(calls)
    factors = sample_factors(300, np.random.default_rng(1))
    preloaded = grid_images(grid, preload=True)
    assert calls == [NUM_IMAGES]
    a, b = preloaded(factors), preloaded(factors[:7])
    assert calls == [NUM_IMAGES]  # no more reads
    np.testing.assert_array_equal(a, grid_images(grid)(factors))
    np.testing.assert_array_equal(b, a[:7])
    items = grid_items(factors)
    np.testing.assert_array_equal(a[:, 0, 0], items & 1)


def test_only_factor_sources_have_a_grid():
    assert load_factor_grid("shapes").size == np.prod(FACTOR_SIZES)
    assert load_factor_grid("digits") is None


@pytest.mark.parametrize("workers", [1, 3])
def test_the_whole_grid_table_gives_the_codes_of_encoding_on_demand(workers: int):
    calls: list = []
    threads = torch.get_num_threads()

    def encode(factors: np.ndarray) -> np.ndarray:
        calls.append((len(factors), torch.get_num_threads()))
        return factors * np.array([1.0, 10.0, 100.0, 1e3, 1e4])  # one code per combination

    lookup = grid_code_table(encode, workers=workers)
    assert sum(n for n, _ in calls) == NUM_IMAGES
    assert {t for _, t in calls} == {threads if workers == 1 else 1}  # side by side, one torch thread each
    assert torch.get_num_threads() == threads  # and torch's setting is restored
    factors = sample_factors(1000, np.random.default_rng(2))
    np.testing.assert_array_equal(lookup(factors), encode(factors))


def test_a_cached_grid_table_is_read_back_instead_of_encoding_again(tmp_path):
    calls: list = []

    def encode(factors: np.ndarray) -> np.ndarray:
        calls.append(len(factors))
        return factors * np.array([1.0, 0.1, 0.01, 1e-3, 1e-4])

    cache = tmp_path / "cache" / "codes.npy"
    first = grid_code_table(encode, cache=cache)
    assert sum(calls) == NUM_IMAGES and cache.is_file()
    again = grid_code_table(encode, cache=cache)
    assert sum(calls) == NUM_IMAGES  # no image encoded the second time
    factors = sample_factors(500, np.random.default_rng(3))
    np.testing.assert_array_equal(again(factors), first(factors))
    np.save(cache, np.zeros((10, 5)))  # a table of another grid is not used
    grid_code_table(encode, cache=cache)
    assert sum(calls) == 2 * NUM_IMAGES


def test_the_literature_budget_encodes_the_whole_grid_and_a_small_one_does_not():
    assert images_needed(10_000, 5_000) > NUM_IMAGES > images_needed(500, 200)
