"""Data sets given as paths (via load_data): .npy, .npz, folders of images, folders of idx files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vaekit.data import load_data
from vaekit.errors import DataError

from .writers import tiny_mnist, write_png, write_tiny_mnist

RNG = np.random.default_rng(0)


def as_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W) -> the float32 (N, 1, H, W) that load_data should return."""
    return torch.from_numpy(images[:, None].astype(np.float32) / 255)


def test_npy_is_held_out_and_keeps_every_image_once(tmp_path: Path) -> None:
    images = RNG.integers(0, 256, (20, 5, 5), dtype=np.uint8)
    np.save(tmp_path / "x.npy", images)
    data = load_data(str(tmp_path / "x.npy"), test_fraction=0.2, split_seed=1)
    assert data.shape == (1, 5, 5) and len(data.train) == 16 and len(data.test) == 4
    assert data.train_labels is None and not data.is_binary
    both = torch.cat([data.pixels("train"), data.pixels("test")]).flatten(1)
    assert sorted(map(tuple, both.tolist())) == sorted(map(tuple, as_tensor(images).flatten(1).tolist()))


@pytest.mark.parametrize(
    "keys", [("train", "test", "train_labels", "test_labels"), ("x_train", "x_test", "y_train", "y_test")]
)
def test_npz_with_splits_and_labels_round_trips(tmp_path: Path, keys: tuple[str, ...]) -> None:
    train, test = RNG.integers(0, 256, (6, 4, 4), dtype=np.uint8), RNG.integers(0, 256, (3, 4, 4), dtype=np.uint8)
    y_train, y_test = np.arange(6), np.arange(3) + 10
    np.savez(tmp_path / "d.npz", **dict(zip(keys, (train, test, y_train, y_test), strict=True)), extra=np.zeros(1))
    data = load_data(str(tmp_path / "d.npz"))
    assert torch.equal(data.pixels("train"), as_tensor(train)) and torch.equal(data.pixels("test"), as_tensor(test))
    assert data.train_labels.tolist() == y_train.tolist() and data.test_labels.tolist() == y_test.tolist()


def test_npz_with_one_array_under_any_key_is_held_out(tmp_path: Path) -> None:
    np.savez_compressed(tmp_path / "d.npz", faces=RNG.random((10, 3, 8, 8)))
    data = load_data(str(tmp_path / "d.npz"), test_fraction=0.3)
    assert data.shape == (3, 8, 8) and (len(data.train), len(data.test)) == (7, 3)


def test_shared_binarized_npz_layout_stays_binary(tmp_path: Path) -> None:
    bits = RNG.integers(0, 2, (8, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "b.npz", x_train=bits[:6], x_valid=bits[:1], x_test=bits[6:])
    data = load_data(str(tmp_path / "b.npz"))
    assert data.is_binary and torch.equal(data.pixels("test")[:, 0], torch.from_numpy(bits[6:].astype(np.float32)))


def test_npz_with_unknown_keys_lists_them(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", a=np.zeros((2, 3, 3)), b=np.zeros((2, 3, 3)))
    with pytest.raises(DataError, match=r"\['a', 'b'\].*'train' and 'test'") as err:
        load_data(str(tmp_path / "d.npz"))
    assert str(tmp_path / "d.npz") in str(err.value)


def test_bad_values_in_npz_name_the_file_and_key(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", train=np.full((2, 3, 3), np.nan), test=np.zeros((2, 3, 3)))
    with pytest.raises(DataError, match=r"d.npz\['train'\] holds 18 NaN"):
        load_data(str(tmp_path / "d.npz"))


def test_float_images_out_of_range_say_to_scale(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.full((4, 3, 3), 200.5))
    with pytest.raises(DataError, match=r"x.npy holds float pixels in \[200.5, 200.5\].*x / 255"):
        load_data(str(tmp_path / "x.npy"))


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("d.npz", b"this is not a zip archive at all", "neither the .npy signature nor"),
        ("x.npy", b"", "neither the .npy signature nor"),
        ("d.npz", None, "damaged"),  # a real .npz cut in half
    ],
)
def test_damaged_array_files_name_the_file(tmp_path: Path, name: str, content: bytes | None, words: str) -> None:
    path = tmp_path / name
    if content is None:
        np.savez(path, train=RNG.random((50, 8, 8)), test=RNG.random((5, 8, 8)))
        content = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(content)
    with pytest.raises(DataError, match=words) as err:
        load_data(str(path))
    assert str(path) in str(err.value)


def test_npz_member_with_a_bad_crc_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("train.npy", "w") as f:
            np.save(f, np.zeros((200, 8, 8)))
    raw = bytearray(path.read_bytes())
    raw[80] ^= 0xFF  # inside the deflated member
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError) as err:
        load_data(str(path))
    assert str(path) in str(err.value)


def test_pickled_objects_are_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="pickled Python objects") as err:
        load_data(str(tmp_path / "x.npy"))
    assert str(tmp_path / "x.npy") in str(err.value)


def test_png_folder_with_splits_and_classes_round_trips(tmp_path: Path) -> None:
    pixels = RNG.integers(0, 256, (6, 5, 7), dtype=np.uint8)  # (N, H, W)
    layout = [("train", "0"), ("train", "2"), ("train", "10"), ("test", "2"), ("test", "0"), ("test", "10")]
    for i, (split, cls) in enumerate(layout):
        write_png(tmp_path / "imgs" / split / cls / f"{i}.png", pixels[i])
    data = load_data(str(tmp_path / "imgs"))
    assert data.shape == (1, 5, 7) and len(data.train) == 3 and len(data.test) == 3
    # sorted paths: train/0/0, train/10/2, train/2/1; classes sorted numerically: 0 -> 0, 2 -> 1, 10 -> 2
    assert torch.equal(data.pixels("train"), as_tensor(pixels[[0, 2, 1]]))
    assert data.train_labels.tolist() == [0, 2, 1]
    assert torch.equal(data.pixels("test"), as_tensor(pixels[[4, 5, 3]]))
    assert data.test_labels.tolist() == [0, 2, 1]


def test_png_folder_of_class_folders_is_held_out_with_labels(tmp_path: Path) -> None:
    for i in range(10):
        write_png(tmp_path / ("cat" if i % 2 else "dog") / f"{i}.png", np.full((4, 4), i * 20, np.uint8))
    (tmp_path / "notes.txt").write_text("ignored")
    write_png(tmp_path / ".hidden" / "x.png", np.zeros((9, 9), np.uint8))  # skipped: hidden, other size
    data = load_data(str(tmp_path), test_fraction=0.2)
    assert (len(data.train), len(data.test)) == (8, 2)
    for x, y in ((data.pixels("train"), data.train_labels), (data.pixels("test"), data.test_labels)):
        value = (x[:, 0, 0, 0] * 255 / 20).round().long()  # the i of each image
        assert torch.equal(y, torch.where(value % 2 == 1, 0, 1))  # cat = 0, dog = 1


def test_flat_png_folder_has_no_labels_and_mixed_modes_become_rgb(tmp_path: Path) -> None:
    write_png(tmp_path / "a.png", np.full((3, 3), 255, np.uint8))
    write_png(tmp_path / "b.png", np.zeros((3, 3, 3), np.uint8))
    data = load_data(str(tmp_path))
    assert data.shape == (3, 3, 3) and data.train_labels is None
    assert sorted(torch.cat([data.pixels("train"), data.pixels("test")]).amax(dim=(1, 2, 3)).tolist()) == [0.0, 1.0]


def test_png_folder_of_mixed_sizes_names_two_files(tmp_path: Path) -> None:
    write_png(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    write_png(tmp_path / "b.png", np.zeros((5, 4), np.uint8))
    with pytest.raises(DataError, match=r"a.png is 4x4 but .*b.png is 4x5.*resize") as err:
        load_data(str(tmp_path))
    assert str(tmp_path / "a.png") in str(err.value) and str(tmp_path / "b.png") in str(err.value)


@pytest.mark.parametrize("cut", [0, 30, 60])
def test_corrupt_image_names_the_file(tmp_path: Path, cut: int) -> None:
    write_png(tmp_path / "a.png", np.zeros((40, 40), np.uint8))
    bad = write_png(tmp_path / "b.png", RNG.integers(0, 256, (40, 40), dtype=np.uint8))
    bad.write_bytes(bad.read_bytes()[:cut] if cut else b"not an image")
    with pytest.raises(DataError, match="cannot read the image") as err:
        load_data(str(tmp_path))
    assert str(bad) in str(err.value)


def _damaged_copies(tmp_path: Path, suffix: str) -> tuple[Path, bytes]:
    """A folder of two intact images and the bytes of a third, to be damaged by the test."""
    rng = np.random.default_rng(3)
    for name in ("a", "b", "c"):
        Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(tmp_path / f"{name}{suffix}")
    return tmp_path / f"c{suffix}", (tmp_path / f"c{suffix}").read_bytes()


@pytest.mark.parametrize("cut", [1, 4, 8, 13, 20])
def test_a_png_cut_short_by_a_few_bytes_is_refused_by_name(tmp_path: Path, cut: int) -> None:
    """Pillow decodes these without a word (the pixels are all there); the PNG's own checks do not pass."""
    bad, raw = _damaged_copies(tmp_path, ".png")
    bad.write_bytes(raw[:-cut])
    with pytest.raises(DataError, match="cannot read the image .* it is damaged") as err:
        load_data(str(tmp_path))
    assert str(bad) in str(err.value) and "cut short" in str(err.value)


def test_a_png_with_a_flipped_bit_fails_its_crc(tmp_path: Path) -> None:
    bad, raw = _damaged_copies(tmp_path, ".png")
    idat = raw.index(b"IDAT") + 10  # a byte inside the compressed pixels
    bad.write_bytes(raw[:idat] + bytes([raw[idat] ^ 1]) + raw[idat + 1 :])
    with pytest.raises(DataError, match=r"CRC-32 of its IDAT chunk") as err:
        load_data(str(tmp_path))
    assert str(bad) in str(err.value)


def test_a_jpeg_without_its_end_marker_is_refused_and_intact_files_load(tmp_path: Path) -> None:
    bad, raw = _damaged_copies(tmp_path, ".jpg")
    assert len(load_data(str(tmp_path), test_fraction=0.34).train) == 2  # intact: loads
    bad.write_bytes(raw[:-2])
    with pytest.raises(DataError, match="end-of-image marker") as err:
        load_data(str(tmp_path))
    assert str(bad) in str(err.value)


def test_folder_without_images_says_what_to_give(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(DataError, match="holds no PNG or JPEG images") as err:
        load_data(str(tmp_path))
    assert str(tmp_path) in str(err.value)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_folder_reads_like_mnist(tmp_path: Path, suffix: str) -> None:
    arrays = tiny_mnist()
    write_tiny_mnist(tmp_path, arrays, suffix)
    data = load_data(str(tmp_path))
    assert torch.equal(data.pixels("train"), as_tensor(arrays["train-images-idx3-ubyte"]))
    assert torch.equal(data.pixels("test"), as_tensor(arrays["t10k-images-idx3-ubyte"]))
    assert data.test_labels.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()


def test_idx_folder_with_mismatched_labels_names_the_label_file(tmp_path: Path) -> None:
    arrays = tiny_mnist()
    arrays["train-labels-idx1-ubyte"] = arrays["train-labels-idx1-ubyte"][:-1]
    paths = write_tiny_mnist(tmp_path, arrays)
    with pytest.raises(DataError, match=r"labels of shape \(5,\) for 6 images") as err:
        load_data(str(tmp_path))
    assert str(paths["train-labels-idx1-ubyte.gz"]) in str(err.value)


def test_unknown_file_kind_lists_the_accepted_kinds(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("1,2")
    with pytest.raises(DataError, match=r"'.csv' file.*Accepted: a .npy file") as err:
        load_data(str(tmp_path / "x.csv"))
    assert str(tmp_path / "x.csv") in str(err.value)


@pytest.mark.parametrize(("source", "suggestion"), [("minst", "mnist"), ("binarized_mnist", "binarized-mnist")])
def test_missing_source_suggests_a_builtin_name(source: str, suggestion: str) -> None:
    with pytest.raises(DataError, match=f"'{source}' is neither.*Did you mean '{suggestion}'.*digits, mnist"):
        load_data(source)


def test_missing_path_lists_builtins_and_kinds(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="Built-in data sets: .*A path may be a .npy file") as err:
        load_data(str(tmp_path / "nothing-here.npz"))
    assert str(tmp_path / "nothing-here.npz") in str(err.value) and "Did you mean" not in str(err.value)


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5, "0.1", True])
def test_test_fraction_outside_0_1_is_refused(fraction: object) -> None:
    with pytest.raises(DataError, match="test_fraction must be a number strictly between 0 and 1"):
        load_data("digits", test_fraction=fraction)  # type: ignore[arg-type]


@pytest.mark.parametrize("source", ["", "bad\0name", "x" * 5000])
def test_impossible_paths_are_data_errors(source: str) -> None:
    with pytest.raises(DataError, match="neither a built-in data set nor an existing file or folder"):
        load_data(source)
