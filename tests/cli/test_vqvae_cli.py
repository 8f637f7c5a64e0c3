"""The VQ-VAE through the real `vaekit` command line, end to end, on tiny data."""

import json
import math
import subprocess
import sys

import numpy as np

from tiny_configs import TINY_VQ_RUN
from vaekit.cli.main import main

VQ = TINY_VQ_RUN


def test_train_train_prior_sample_encode_reconstruct_evaluate(tmp_path, tiny_images, capsys):
    run = tmp_path / "run"
    r = subprocess.run(
        [sys.executable, "-m", "vaekit", "train", "--data", str(tiny_images), "--epochs", "1", "--out", str(run), *VQ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "epoch 1/1" in r.stderr and "perplexity" in r.stderr and "train-prior" in r.stderr

    # before the second stage: uniform codes, and a note that says so
    assert main(["sample", str(run), "-n", "3", "--out", str(tmp_path / "u.npy")]) == 0
    assert "no trained prior" in capsys.readouterr().err
    assert np.load(tmp_path / "u.npy").shape == (3, 1, 8, 8)

    assert main(["train-prior", str(run), "--epochs", "1"]) == 0
    assert "prior epoch 1/1" in capsys.readouterr().err
    assert (run / "prior.safetensors").is_file() and (run / "prior_metrics.jsonl").is_file()
    assert main(["train-prior", str(run)]) == 2  # refuses to overwrite
    assert "--force" in capsys.readouterr().err

    assert main(["sample", str(run), "-n", "5", "--seed", "3", "--out", str(tmp_path / "s.npy")]) == 0
    assert "no trained prior" not in capsys.readouterr().err
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (5, 1, 8, 8) and samples.min() >= 0 and samples.max() <= 1
    main(["sample", str(run), "-n", "5", "--seed", "3", "--out", str(tmp_path / "t.npy")])
    assert np.array_equal(samples, np.load(tmp_path / "t.npy"))

    data = ["--data", str(tiny_images)]
    assert main(["encode", str(run), *data, "--split", "train", "--out", str(tmp_path / "c.npy")]) == 0
    codes = np.load(tmp_path / "c.npy")
    assert codes.shape == (108, 2, 2) and codes.dtype == np.int64 and 0 <= codes.min() and codes.max() < 8
    capsys.readouterr()
    assert main(["encode", str(run), "--out", str(tmp_path / "c.csv")]) == 0  # the run's own data
    assert "wrote the code maps of 12 test images" in capsys.readouterr().out
    assert np.loadtxt(tmp_path / "c.csv", delimiter=",", skiprows=1).shape == (12, 4)
    assert main(["reconstruct", str(run), *data, "-n", "4", "--out", str(tmp_path / "r.png")]) == 0
    assert main(["interpolate", str(run), *data, "--pair", "0", "1", "--out", str(tmp_path / "i.png")]) == 2
    assert "latent_vector" in capsys.readouterr().err

    assert main(["evaluate", str(run), "--out", str(tmp_path / "e.json")]) == 0
    printed = capsys.readouterr().out
    assert "codebook_perplexity" in printed and "prior_nll" in printed
    assert printed.strip().splitlines()[-1] == f"wrote the report of 12 test examples to {tmp_path / 'e.json'}"
    report = json.loads((tmp_path / "e.json").read_text())
    keys = {"codebook_size", "codebook_perplexity", "dead_codes", "reconstruction", "reconstruction_mse"}
    assert keys | {"prior_nll", "bits_per_dim", "elbo", "num_examples"} <= set(report)
    assert report["codebook_size"] == 8 and report["prior"] == "pixelcnn" and report["num_examples"] == 12
    assert 1 <= report["codebook_perplexity"] <= 8 and 0 <= report["dead_codes"] < 8
    nll = -report["reconstruction"] + report["prior_nll"]
    assert math.isclose(report["bits_per_dim"], nll / (64 * math.log(2)))
