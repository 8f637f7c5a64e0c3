"""Load-time transforms (grayscale, resize, center crop, invert): each against its definition, in the order the
config states, on arrays and on image folders, and the errors for transforms that cannot apply."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vaekit.config import load_config
from vaekit.data import load_data
from vaekit.data.transforms import ImageTransforms
from vaekit.errors import ConfigError, DataError
from vaekit.workflow.data import load_configured

RNG = np.random.default_rng(0)


def _rgb(n: int, h: int, w: int) -> np.ndarray:
    return RNG.integers(0, 256, size=(n, h, w, 3), dtype=np.uint8)


def test_grayscale_is_the_601_luma_within_one_level_of_pillow() -> None:
    x = _rgb(5, 6, 7)
    out = ImageTransforms.of(grayscale=True).apply(x.transpose(0, 3, 1, 2), 255.0)  # (5, 1, 6, 7)
    assert out.shape == (5, 1, 6, 7) and out.dtype == np.uint8
    pillow = np.stack([np.asarray(Image.fromarray(im).convert("L")) for im in x])  # fixed-point luma
    assert np.abs(out[:, 0].astype(int) - pillow.astype(int)).max() <= 1
    luma = np.rint(x.astype(np.float64) @ np.array([0.299, 0.587, 0.114]))
    assert np.abs(out[:, 0] - luma).max() <= 1e-3 * 255


def test_resize_of_the_shorter_side_keeps_the_aspect_and_matches_pillow() -> None:
    x = RNG.integers(0, 256, size=(3, 1, 40, 60), dtype=np.uint8)
    t = ImageTransforms.of(resize=20)
    out = t.apply(x, 255.0)
    assert out.shape == (3, 1, 20, 30) and out.dtype == np.uint8
    expected = np.asarray(Image.fromarray(x[1, 0]).resize((30, 20), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(out[1, 0], expected)


def test_resize_to_an_exact_size_of_float_rgb_stays_float_in_range() -> None:
    x = RNG.random((2, 3, 9, 5)).astype(np.float32)
    out = ImageTransforms.of(resize=[4, 8]).apply(x, 1.0)
    assert out.shape == (2, 3, 4, 8) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    constant = np.full((1, 3, 9, 5), 0.25, np.float32)
    np.testing.assert_allclose(ImageTransforms.of(resize=[4, 8]).apply(constant, 1.0), 0.25, atol=1e-6)


def test_center_crop_takes_the_central_window_after_the_resize() -> None:
    x = np.arange(2 * 1 * 10 * 12, dtype=np.float32).reshape(2, 1, 10, 12) / 240
    out = ImageTransforms.of(center_crop=[4, 6]).apply(x, 1.0)
    np.testing.assert_array_equal(out, x[:, :, 3:7, 3:9])
    both = ImageTransforms.of(resize=[20, 24], center_crop=20).apply(x, 1.0)
    assert both.shape == (2, 1, 20, 20)


def test_invert_maps_v_to_max_minus_v_for_codes_and_floats() -> None:
    codes = RNG.integers(0, 256, size=(2, 1, 3, 3), dtype=np.uint8)
    np.testing.assert_array_equal(ImageTransforms.of(invert=True).apply(codes, 255.0), 255 - codes)
    floats = RNG.random((2, 1, 3, 3)).astype(np.float32)
    np.testing.assert_array_equal(ImageTransforms.of(invert=True).apply(floats, 1.0), np.float32(1) - floats)


def test_inverting_binary_data_keeps_it_binary(tmp_path: Path) -> None:
    bits = (RNG.random((20, 5, 5)) < 0.2).astype(np.uint8)
    np.save(tmp_path / "b.npy", 1 - bits)  # ink 0 on a background of 1
    data = load_data(str(tmp_path / "b.npy"), transforms=ImageTransforms.of(invert=True), test_fraction=0.25)
    assert data.is_binary and data.levels == 2
    assert int(torch.cat([data.train, data.test]).sum()) == int(bits.sum())


def test_resizing_binary_data_makes_it_8_bit(tmp_path: Path) -> None:
    np.save(tmp_path / "b.npy", (RNG.random((20, 8, 8)) < 0.5).astype(np.uint8))
    data = load_data(str(tmp_path / "b.npy"), transforms=ImageTransforms.of(resize=3), test_fraction=0.25)
    assert data.shape == (1, 3, 3) and data.levels == 256 and not data.is_binary
    assert 0 < float(data.pixels("train").mean()) < 1


def test_a_folder_of_mixed_sizes_loads_only_with_a_resize(tmp_path: Path) -> None:
    for i, (w, h) in enumerate([(30, 20), (45, 30), (60, 40), (30, 20)]):
        Image.fromarray(_rgb(1, h, w)[0]).save(tmp_path / f"{i}.png")
    with pytest.raises(DataError, match="differ in size.*data.resize"):
        load_data(str(tmp_path))
    data = load_data(str(tmp_path), transforms=ImageTransforms.of(resize=[10, 15]), test_fraction=0.25)
    assert data.shape == (3, 10, 15) and len(data.train) + len(data.test) == 4
    data = load_data(str(tmp_path), transforms=ImageTransforms.of(resize=8, grayscale=True), test_fraction=0.25)
    assert data.shape == (1, 8, 12)


def test_a_crop_larger_than_the_images_is_a_clear_error(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", RNG.integers(0, 256, size=(4, 8, 8), dtype=np.uint8))
    with pytest.raises(DataError, match="center_crop 9x9 is larger than"):
        load_data(str(tmp_path / "x.npy"), transforms=ImageTransforms.of(center_crop=9))


@pytest.mark.parametrize("value", [0, [1, 2, 3], -4, [0, 5]])
def test_bad_transform_sizes_are_refused_by_the_config(value) -> None:
    with pytest.raises(ConfigError, match="data.resize"):
        load_config(overrides=[("data.resize", value)])


def test_the_config_transforms_apply_to_a_new_file_the_same_way(tmp_path: Path) -> None:
    """A run's transforms (config.data) apply to any file loaded for it: the run's own and a user's new one."""
    cfg = load_config(overrides=["data.resize=[6, 6]", "data.invert=true", "data.grayscale=true"]).data
    own, new = _rgb(30, 12, 12), _rgb(10, 24, 18)
    np.save(tmp_path / "own.npy", own)
    np.save(tmp_path / "new.npy", new)
    cfg.source = str(tmp_path / "own.npy")
    assert load_configured(cfg).shape == (1, 6, 6)
    data = load_configured(cfg, str(tmp_path / "new.npy"))
    expected = ImageTransforms.of([6, 6], None, True, True).apply(new.transpose(0, 3, 1, 2), 255.0)
    got = torch.cat([data.train, data.test]).numpy()
    assert got.shape == (10, 1, 6, 6)
    assert sorted(map(bytes, got)) == sorted(map(bytes, expected))


def test_encode_applies_the_runs_transforms_to_a_new_file(tmp_path: Path) -> None:
    """A run trained on resized, inverted 12x12 images encodes a user's 30x20 file through the same steps."""
    from vaekit import load_run
    from vaekit.cli.main import main

    own = RNG.integers(0, 256, size=(40, 12, 12), dtype=np.uint8)
    new = RNG.integers(0, 256, size=(6, 30, 20), dtype=np.uint8)
    np.save(tmp_path / "own.npy", own)
    np.savez(tmp_path / "new.npz", train=new, test=new[:2])  # its own split: every image of 'train', in order
    run = tmp_path / "run"
    args = ["train", f"data.source={tmp_path / 'own.npy'}", "data.resize=[6, 6]", "data.invert=true"]
    args += ["model.latent_dim=2", "model.network.hidden=[8]", "train.epochs=1", "train.progress=false"]
    assert main([*args, "train.num_sample_images=4", "--out", str(run)]) == 0
    assert (
        main(
            [
                "encode",
                str(run),
                "--data",
                str(tmp_path / "new.npz"),
                "--split",
                "train",
                "--out",
                str(tmp_path / "z.npy"),
            ]
        )
        == 0
    )
    z = np.load(tmp_path / "z.npy")
    expected_x = ImageTransforms.of([6, 6], None, False, True).apply(new[:, None], 255.0)  # (6, 1, 6, 6) uint8
    expected = load_run(run).encode(torch.from_numpy(expected_x).float() / 255).numpy()
    assert z.shape == (6, 2)
    np.testing.assert_allclose(z, expected, rtol=1e-5, atol=1e-6)
