"""The load summary `vaekit train` prints, and its warnings about data that will train or test badly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vaekit.cli.main import main
from vaekit.data import load_data
from vaekit.data.summary import data_warnings, summary_lines

RNG = np.random.default_rng(1)


def _ink_on_paper(n: int, side: int) -> np.ndarray:
    return np.where(RNG.random((n, side, side)) < 0.1, 0, 255).astype(np.uint8)  # dark strokes, white paper


def test_the_summary_states_source_counts_shape_values_split_and_storage(tmp_path: Path) -> None:
    x = RNG.integers(0, 256, size=(500, 3, 10, 12), dtype=np.uint8)
    np.savez(tmp_path / "d.npz", train=x[:400], test=x[400:])
    first, second = summary_lines(load_data(str(tmp_path / "d.npz")))
    assert "d.npz['train'] (400, 3, 10, 12) uint8" in first and "d.npz['test'] (100, 3, 10, 12) uint8" in first
    assert "the source's own train/test split" in first
    for words in ("400 train / 100 test images", "3x10x12 (RGB)", "values 0..255, divided by 255", "not binary"):
        assert words in second
    assert "256 levels" in second and "held in memory as uint8 (0.2 MiB)" in second and "transforms: none" in second


def test_the_labels_found_and_grayscale_images_made_rgb_are_stated(tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(12):  # class folders 3 and 7; every third image RGB, so the set is RGB and the others converted
        shape = (6, 6, 3) if i % 3 == 0 else (6, 6)
        folder = tmp_path / "imgs" / ("3" if i % 2 else "7")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(folder / f"{i}.png")
    _, second = summary_lines(load_data(str(tmp_path / "imgs")))
    assert "3x6x6 (RGB)" in second and "8 of 12 images grayscale, made RGB (their one channel repeated)" in second
    assert "labels 0..1 (2 classes)" in second
    np.save(tmp_path / "x.npy", _ink_on_paper(20, 4))
    _, plain = summary_lines(load_data(str(tmp_path / "x.npy")))
    assert "no labels" in plain and "made RGB" not in plain


def test_a_held_out_split_and_the_transforms_are_stated(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", _ink_on_paper(50, 20))
    from vaekit.data.transforms import ImageTransforms

    data = load_data(str(tmp_path / "x.npy"), transforms=ImageTransforms.of(invert=True), test_fraction=0.2)
    first, second = summary_lines(data)
    assert "test held out at random: 0.2 of the images, data.split_seed 0" in first
    assert "transforms: invert" in second and "binary" in second and "background 0 (dark)" in second


def test_few_steps_a_small_test_split_and_a_light_background_are_warned(tmp_path: Path) -> None:
    x = _ink_on_paper(200, 8)
    np.savez(tmp_path / "d.npz", train=x[:180], test=x[180:])
    warnings = data_warnings(load_data(str(tmp_path / "d.npz")), batch_size=64)
    assert any(
        "an epoch is 3 steps (180 images at batch 64)" in w and "train.batch_size=9 or smaller" in w for w in warnings
    )
    assert any("the test split holds 20 images" in w for w in warnings)
    assert any("background is light" in w and "data.invert=true" in w for w in warnings)


def test_a_tiny_data_set_is_not_told_to_use_batches_of_one(tmp_path: Path) -> None:
    x = 255 - _ink_on_paper(34, 8)
    np.savez(tmp_path / "d.npz", train=x[:30], test=x[30:])
    (few,) = [w for w in data_warnings(load_data(str(tmp_path / "d.npz")), batch_size=64) if "an epoch is" in w]
    assert "30 images are too few for 20 steps of more than one image" in few and "at least 40" in few
    assert "batch_size" not in few  # no batch size makes 20 steps of several images: none is advised


@pytest.mark.parametrize("side, channels, warned", [(105, 1, True), (64, 1, False), (28, 1, False), (40, 3, True)])
def test_images_too_large_for_an_mlp_are_warned_with_data_resize(tmp_path: Path, side, channels, warned) -> None:
    x = 255 - _ink_on_paper(150 * channels, side).reshape(150, channels, side, side)
    np.save(tmp_path / "x.npy", x)
    data = load_data(str(tmp_path / "x.npy"))
    large = [w for w in data_warnings(data, batch_size=4, mlp=True) if "inputs to an MLP" in w]
    assert len(large) == warned
    if warned:
        resize = 28 if channels == 1 else 32
        assert f"{channels * side * side:,} inputs" in large[0] and f"data.resize={resize}" in large[0]
        assert "model.network.type=conv" in large[0]
    assert not [w for w in data_warnings(data, batch_size=4, mlp=False) if "inputs to an MLP" in w]  # conv: no


def test_a_large_dark_data_set_gets_no_warning(tmp_path: Path) -> None:
    x = (255 - _ink_on_paper(3000, 6)).astype(np.uint8)
    np.savez(tmp_path / "d.npz", train=x[:2800], test=x[2800:])
    assert data_warnings(load_data(str(tmp_path / "d.npz")), batch_size=64) == []


def test_floats_that_look_8_bit_are_read_as_8_bit_with_a_warning(tmp_path: Path) -> None:
    x = RNG.integers(0, 256, size=(300, 4, 4)).astype(np.float64)
    np.save(tmp_path / "f.npy", x)
    data = load_data(str(tmp_path / "f.npy"))
    assert data.levels == 256 and data.train.dtype == torch.uint8
    assert any("look like 8-bit values stored as floats" in w for w in data_warnings(data, 8))


def test_train_prints_the_summary_and_warnings_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    x = _ink_on_paper(120, 8)
    np.save(tmp_path / "x.npy", x)
    args = ["train", f"data.source={tmp_path / 'x.npy'}", "model.latent_dim=2", "model.network.hidden=[8]"]
    assert main([*args, "train.epochs=1", "train.progress=false", "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "data: " in err and "108 train / 12 test images, 1x8x8 (grayscale)" in err
    assert "warning: an epoch is 2 steps" in err and "warning: the test split holds 12 images" in err


def test_train_warns_of_images_too_large_for_its_mlp(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    np.save(tmp_path / "x.npy", 255 - _ink_on_paper(40, 70))
    args = ["train", f"data.source={tmp_path / 'x.npy'}", "model.latent_dim=2", "model.network.hidden=[4]"]
    assert main([*args, "train.epochs=1", "train.progress=false", "--out", str(tmp_path / "run")]) == 0
    assert "warning: the images are 1x70x70: 4,900 inputs to an MLP" in capsys.readouterr().err
