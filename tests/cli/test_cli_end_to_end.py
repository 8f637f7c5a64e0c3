"""The real `vaekit` command, end to end, on tiny data in a temporary folder."""

import subprocess
import sys

import numpy as np
from PIL import Image

TRAIN_ARGS = [
    "model.latent_dim=2",
    "model.network.hidden=[16]",
    "train.batch_size=32",
    "train.num_sample_images=4",
]


def vaekit(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "vaekit", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_train_sample_reconstruct_encode_interpolate(tmp_path, tiny_images):
    run = tmp_path / "run"
    r = vaekit("train", "--data", tiny_images, "--epochs", 2, "--seed", 1, "--out", run, *TRAIN_ARGS, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "epoch 2/2" in r.stderr
    assert Image.open(run / "samples.png").size[0] > 0

    r = vaekit("sample", run, "-n", 5, "--seed", 3, "--out", tmp_path / "s.npy", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == f"wrote 5 samples (1x8x8) to {tmp_path / 's.npy'}"
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (5, 1, 8, 8) and samples.min() >= 0 and samples.max() <= 1
    vaekit("sample", run, "-n", 5, "--seed", 3, "--out", tmp_path / "t.npy", cwd=tmp_path)
    assert np.array_equal(samples, np.load(tmp_path / "t.npy"))  # same seed, same samples
    assert vaekit("sample", run, "--out", tmp_path / "s.png", cwd=tmp_path).returncode == 0

    # without --data, the commands read the run's own data: the same images as naming it
    r = vaekit("reconstruct", run, "-n", 4, "--out", tmp_path / "r.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"wrote 4 test images of the run's data '{tiny_images}'" in r.stdout and "(1x8x8)" in r.stdout
    with Image.open(tmp_path / "r.png") as own:
        vaekit("reconstruct", run, "--data", tiny_images, "-n", 4, "--out", tmp_path / "r2.png", cwd=tmp_path)
        with Image.open(tmp_path / "r2.png") as named:
            assert np.array_equal(np.asarray(own), np.asarray(named))

    r = vaekit("encode", run, "--data", tiny_images, "--split", "train", "--out", tmp_path / "z.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    z = np.loadtxt(tmp_path / "z.csv", delimiter=",", skiprows=1)
    assert z.shape == (108, 2)  # 120 images, 10% held out for test
    assert "wrote the latent means of 108 train images" in r.stdout and "(108 x 2)" in r.stdout
    r = vaekit("encode", run, "--out", tmp_path / "z.npy", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith(f"(12 x 2) to {tmp_path / 'z.npy'}")
    vaekit("encode", run, "--data", tiny_images, "--out", tmp_path / "z2.npy", cwd=tmp_path)
    assert np.load(tmp_path / "z.npy").shape == (12, 2)
    assert np.array_equal(np.load(tmp_path / "z.npy"), np.load(tmp_path / "z2.npy"))

    r = vaekit("interpolate", run, "--pair", 0, 1, "--steps", 5, "--out", tmp_path / "i.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"wrote 5 images (1x8x8) from test image 0 to 1 of the run's data '{tiny_images}'" in r.stdout

    r = vaekit("train", "--out", run, "--resume", "--epochs", 3, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "epoch 3/3" in r.stderr and "epoch 2/3" not in r.stderr


def test_datasets_lists_the_built_in_sources(tmp_path):
    r = vaekit("datasets", "--data-dir", tmp_path, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for name in ("digits", "mnist", "fashion-mnist", "binarized-mnist", "cifar10"):
        assert name in r.stdout
    assert str(tmp_path) in r.stdout


def test_a_bad_input_exits_2_with_one_message_and_no_traceback(tmp_path):
    r = vaekit("train", "--data", tmp_path / "nope.npy", "--out", tmp_path / "run", cwd=tmp_path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "nope.npy" in r.stderr
    assert not (tmp_path / "run").exists()
