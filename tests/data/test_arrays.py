"""Array validation and conversion, hold-out splits, binarization and the ImageData contract."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from vaekit.data import ImageData, binarize
from vaekit.data.arrays import build_image_data, holdout_indices, images_to_tensors, labels_to_tensor
from vaekit.data.types import RawData, Split
from vaekit.errors import DataError

RNG = np.random.default_rng(0)
GRAY = RNG.integers(0, 256, (4, 5, 6), dtype=np.uint8)  # (N, H, W)
RGB = RNG.integers(0, 256, (4, 5, 6, 3), dtype=np.uint8)  # (N, H, W, C)


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (GRAY, GRAY[:, None]),
        (GRAY[..., None], GRAY[:, None]),  # (N, H, W, 1)
        (GRAY[:, None], GRAY[:, None]),  # (N, 1, H, W)
        (RGB, RGB.transpose(0, 3, 1, 2)),  # channels-last -> channels-first
        (RGB.transpose(0, 3, 1, 2), RGB.transpose(0, 3, 1, 2)),
    ],
    ids=["NHW", "NHW1", "N1HW", "NHW3", "N3HW"],
)
def test_layouts_become_channels_first_uint8_over_255(array: np.ndarray, expected: np.ndarray) -> None:
    (x,) = images_to_tensors([(array, "a.npy")])
    assert x.dtype == torch.float32 and x.is_contiguous()
    torch.testing.assert_close(x, torch.from_numpy(expected.astype(np.float32) / 255), rtol=0, atol=0)


def test_bool_and_binary_integers_keep_0_and_1() -> None:
    bits = RNG.integers(0, 2, (3, 4, 4))
    for array in (bits.astype(bool), bits.astype(np.uint8), bits.astype(np.int64)):
        (x,) = images_to_tensors([(array, "a.npy")])
        torch.testing.assert_close(x[:, 0], torch.from_numpy(bits.astype(np.float32)), rtol=0, atol=0)


def test_integer_splits_share_one_scale() -> None:
    train, test = np.full((2, 3, 3), 255, np.uint8), np.ones((2, 3, 3), np.uint8)  # test alone looks binary
    x_train, x_test = images_to_tensors([(train, "train"), (test, "test")])
    assert x_train.max() == 1.0 and x_test.max() == pytest.approx(1 / 255)


def test_floats_in_unit_range_are_kept() -> None:
    array = RNG.random((3, 4, 4))
    (x,) = images_to_tensors([(array, "a.npy")])
    torch.testing.assert_close(x[:, 0], torch.from_numpy(array.astype(np.float32)), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("array", "words"),
    [
        (np.linspace(0, 2, 18).reshape(2, 3, 3), r"float pixels in \[0, 2\].*x / 255"),
        (np.full((2, 3, 3), -0.5, np.float32), r"float pixels in \[-0.5, -0.5\]"),
        (np.array([[[np.nan, np.inf], [0, 1]]] * 2), "4 NaN or infinite pixel values"),
        (np.full((2, 3, 3), 300, np.int32), r"integer pixels in \[300, 300\]"),
        (np.full((2, 3, 3), -1, np.int8), "integer pixels"),
        (np.zeros((0, 3, 3), np.uint8), "holds no images"),
        (np.zeros((2, 784), np.uint8), r"shape \(2, 784\).*Accepted shapes.*reshape\(-1, 28, 28\)"),
        (np.zeros(5, np.uint8), r"shape \(5,\)"),
        (np.zeros((2, 3, 3, 3, 3), np.uint8), "Accepted shapes"),
        (np.zeros((2, 5, 5, 4), np.uint8), "4 channels.*RGBA"),
        (np.zeros((2, 5, 5, 2), np.uint8), "Accepted shapes"),
        (np.zeros((2, 3, 3), np.complex64), "dtype complex64"),
        (np.array([[["a"]]]), "dtype <U1"),
    ],
    ids=lambda v: None if isinstance(v, np.ndarray) else v[:20],
)
def test_bad_arrays_name_the_file_and_the_problem(array: np.ndarray, words: str) -> None:
    with pytest.raises(DataError, match=words) as err:
        images_to_tensors([(array, "/data/faces.npy")])
    assert "/data/faces.npy" in str(err.value)


def test_train_and_test_of_different_shapes_name_both() -> None:
    with pytest.raises(DataError, match=r"f.npz\['train'\].*f.npz\['test'\]"):
        images_to_tensors([(np.zeros((2, 4, 4)), "f.npz['train']"), (np.zeros((2, 5, 5)), "f.npz['test']")])


@pytest.mark.parametrize(
    ("labels", "words"),
    [(np.zeros(3, np.int64), r"shape \(3,\) for 4 images"), (np.zeros(4, np.float32), "dtype float32")],
)
def test_bad_labels_name_the_file(labels: np.ndarray, words: str) -> None:
    with pytest.raises(DataError, match=words) as err:
        labels_to_tensor(labels, 4, "y.npy")
    assert "y.npy" in str(err.value)


def test_labels_of_shape_n_by_1_become_int64_n() -> None:
    y = labels_to_tensor(np.array([[3], [1]], dtype=np.uint8), 2, "y")
    assert y.dtype == torch.int64 and y.tolist() == [3, 1]


@pytest.mark.parametrize(("n", "fraction", "n_test"), [(100, 0.1, 10), (10, 0.25, 2), (5, 0.01, 1), (3, 0.99, 2)])
def test_holdout_is_a_partition_of_the_requested_size(n: int, fraction: float, n_test: int) -> None:
    train, test = holdout_indices(n, fraction, seed=0, origin="x")
    assert len(test) == n_test
    assert sorted([*train, *test]) == list(range(n))


def test_holdout_depends_only_on_the_seed() -> None:
    a, b, c = (holdout_indices(1000, 0.1, seed, "x")[1] for seed in (0, 0, 1))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_holdout_of_one_image_is_an_error() -> None:
    with pytest.raises(DataError, match="one.npy holds 1 image"):
        holdout_indices(1, 0.1, 0, "one.npy")


def test_build_holds_out_labels_with_their_images() -> None:
    images = np.arange(20, dtype=np.uint8).reshape(20, 1, 1) * 10  # image i has the value 10 i
    raw = RawData(Split(images, np.arange(20), "a.npz"), None)
    data = build_image_data("a.npz", raw, test_fraction=0.25, split_seed=3)
    assert len(data.train) == 15 and len(data.test) == 5
    for x, y in ((data.pixels("train"), data.train_labels), (data.pixels("test"), data.test_labels)):
        torch.testing.assert_close(x.flatten() * 255 / 10, y.float(), rtol=0, atol=1e-4)


def test_build_drops_labels_that_only_one_split_has() -> None:
    raw = RawData(Split(np.zeros((2, 3, 3)), np.array([0, 1]), "tr"), Split(np.zeros((2, 3, 3)), None, "te"))
    data = build_image_data("x", raw, 0.1, 0)
    assert data.train_labels is None and data.test_labels is None


def test_is_binary_says_whether_every_pixel_is_0_or_1() -> None:
    bits = np.zeros((2, 3, 3), bool)
    assert build_image_data("x", RawData(Split(bits, None, "a"), Split(bits, None, "b")), 0.1, 0).is_binary
    gray = np.full((2, 3, 3), 0.5)
    assert not build_image_data("x", RawData(Split(bits, None, "a"), Split(gray, None, "b")), 0.1, 0).is_binary


def test_image_data_shape_and_immutability() -> None:
    data = ImageData("x", torch.zeros(2, 3, 4, 5), torch.zeros(1, 3, 4, 5))
    assert data.shape == (3, 4, 5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.name = "y"  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"train": torch.zeros(2, 1, 4, 4), "test": torch.zeros(2, 1, 5, 5)},
        {"train": torch.zeros(2, 4, 4), "test": torch.zeros(2, 4, 4)},
        {"train": torch.zeros(2, 1, 4, 4, dtype=torch.float64), "test": torch.zeros(2, 1, 4, 4)},
        {"train": torch.zeros(2, 1, 4, 4), "test": torch.zeros(2, 1, 4, 4), "train_labels": torch.zeros(3)},
    ],
)
def test_inconsistent_image_data_is_a_data_error(kwargs: dict) -> None:
    with pytest.raises(DataError, match="'x'"):
        ImageData("x", **kwargs)


def test_binarize_draws_bernoulli_pixels_from_the_generator() -> None:
    x = torch.full((200, 1, 10, 10), 0.3)
    a = binarize(x, torch.Generator().manual_seed(0))
    b = binarize(x, torch.Generator().manual_seed(0))
    c = binarize(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and set(a.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.mean().item() == pytest.approx(0.3, abs=0.01)  # 20000 draws: std 0.003
    edges = binarize(torch.tensor([0.0, 1.0]), torch.Generator().manual_seed(0))
    assert edges.tolist() == [0.0, 1.0]
