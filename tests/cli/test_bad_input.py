"""Every bad input: exit status 2, a message naming the problem and the fix, and nothing written."""

import numpy as np
import pytest
from PIL import Image

from vaekit.cli.main import main

FAST = ["model.latent_dim=2", "model.network.hidden=[8]", "train.epochs=1", "train.progress=false"]


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def assert_nothing_written(out):
    assert not out.exists()


def test_missing_path(tmp_path, capsys):
    code, err = run_cli(capsys, "train", "--data", tmp_path / "missing.npy", "--out", tmp_path / "run", *FAST)
    assert code == 2 and "missing.npy" in err
    assert_nothing_written(tmp_path / "run")


def test_truncated_array_file(tmp_path, capsys):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((50, 8, 8), np.uint8))
    path.write_bytes(path.read_bytes()[:300])
    code, err = run_cli(capsys, "train", "--data", path, "--out", tmp_path / "run", *FAST)
    assert code == 2 and "x.npy" in err
    assert_nothing_written(tmp_path / "run")


@pytest.mark.parametrize(
    "array, words",
    [
        (np.zeros((10, 8), np.uint8), ["shape"]),
        (np.full((10, 8, 8), np.nan, np.float32), ["NaN"]),
    ],
)
def test_wrong_shape_or_nan(tmp_path, capsys, array, words):
    path = tmp_path / "x.npy"
    np.save(path, array)
    code, err = run_cli(capsys, "train", "--data", path, "--out", tmp_path / "run", *FAST)
    assert code == 2 and "x.npy" in err
    for word in words:
        assert word.lower() in err.lower()
    assert_nothing_written(tmp_path / "run")


def test_images_of_mixed_sizes(tmp_path, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i, size in enumerate([(8, 8), (8, 8), (10, 8)]):
        Image.fromarray(np.zeros(size[::-1], np.uint8)).save(folder / f"{i}.png")
    code, err = run_cli(capsys, "train", "--data", folder, "--out", tmp_path / "run", *FAST)
    assert code == 2 and "size" in err.lower()
    assert_nothing_written(tmp_path / "run")


def test_unknown_config_key_and_preset(tmp_path, capsys, tiny_images):
    code, err = run_cli(capsys, "train", "--data", tiny_images, "--out", tmp_path / "run", "train.epoch=3")
    assert code == 2 and "train.epoch" in err and "train.epochs" in err
    code, err = run_cli(capsys, "train", "--preset", "seed-minst", "--out", tmp_path / "run")
    assert code == 2 and "seed-mnist" in err
    bad_yaml = tmp_path / "c.yaml"
    bad_yaml.write_text("model:\n  latent: 3\n")
    code, err = run_cli(capsys, "train", bad_yaml, "--data", tiny_images, "--out", tmp_path / "run")
    assert code == 2 and "model.latent" in err and "latent_dim" in err
    assert_nothing_written(tmp_path / "run")


def test_corrupt_run_directory_is_refused(tmp_path, capsys, tiny_images):
    out = tmp_path / "run"
    assert run_cli(capsys, "train", "--data", tiny_images, "--out", out, *FAST)[0] == 0
    weights = out / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:64])
    code, err = run_cli(capsys, "sample", out, "--out", tmp_path / "s.png")
    assert code == 2 and "model.safetensors" in err
    assert not (tmp_path / "s.png").exists()
    code, err = run_cli(capsys, "sample", tmp_path / "nowhere", "--out", tmp_path / "s.png")
    assert code == 2 and "nowhere" in err


def test_data_of_another_shape_than_the_run(tmp_path, capsys, tiny_images):
    out = tmp_path / "run"
    assert run_cli(capsys, "train", "--data", tiny_images, "--out", out, *FAST)[0] == 0
    other = tmp_path / "big.npy"
    np.save(other, np.zeros((20, 10, 10), np.uint8))
    code, err = run_cli(capsys, "encode", out, "--data", other, "--out", tmp_path / "z.npy")
    assert code == 2 and "(1, 10, 10)" in err and "(1, 8, 8)" in err
    assert not (tmp_path / "z.npy").exists()


def test_bad_output_paths(tmp_path, capsys, tiny_images):
    out = tmp_path / "run"
    assert run_cli(capsys, "train", "--data", tiny_images, "--out", out, *FAST)[0] == 0
    code, err = run_cli(capsys, "sample", out, "--out", tmp_path / "s.jpg")
    assert code == 2 and ".png" in err
    code, err = run_cli(capsys, "sample", out, "--out", tmp_path / "no" / "s.png")
    assert code == 2 and "does not exist" in err
    code, err = run_cli(capsys, "train", "--data", tiny_images, "--out", out, *FAST)
    assert code == 2 and "--force" in err
