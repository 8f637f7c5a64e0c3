"""A subset is a random subset: `--limit N` draws N examples with the seed, never the first N of a sorted set."""

import json

import numpy as np
import torch

import vaekit
from vaekit.cli.main import main
from vaekit.workflow.evaluation import evaluation_split, random_subset


def test_random_subset_is_sorted_distinct_reproducible_and_seeded():
    a = random_subset(1000, 100, seed=0)
    assert a.shape == (100,) and torch.equal(a, a.sort().values) and a.unique().numel() == 100
    assert torch.equal(a, random_subset(1000, 100, seed=0))
    assert not torch.equal(a, random_subset(1000, 100, seed=1))
    assert random_subset(1000, None, seed=0) is None and random_subset(1000, 1000, seed=0) is None


def sorted_images(tmp_path):
    """200 8x8 uint8 images sorted by brightness: image i has every pixel at i, as a set sorted by class would be."""
    path = tmp_path / "sorted.npz"
    train = np.repeat(np.arange(200, dtype=np.uint8), 64).reshape(200, 8, 8)
    np.savez(path, train=train, test=train)
    return path


def test_a_limit_on_a_sorted_set_draws_across_it_and_says_so(tmp_path, capsys):
    path = sorted_images(tmp_path)
    config = vaekit.load_config(
        overrides=[
            f"data.source={path}",
            "model.latent_dim=2",
            "model.network.hidden=[8]",
            "train.progress=false",
            "train.epochs=1",
        ]
    )
    run = vaekit.train(config, tmp_path / "run")
    x, _, _, subset = evaluation_split(run, run.config, "test", limit=50, seed=3)
    brightness = (x[:, 0, 0, 0] * 255).round()  # which images were drawn
    assert subset == {"size": 50, "of": 200, "seed": 3}
    assert not torch.equal(brightness, torch.arange(50.0))  # not the first 50
    assert 70 < brightness.mean() < 130  # their mean is near the set's (99.5); the first 50 average 24.5
    assert brightness.max() > 150
    out = tmp_path / "r.json"
    assert (
        main(
            ["evaluate", str(tmp_path / "run"), "--limit", "50", "--seed", "3", "--iw-samples", "5", "--out", str(out)]
        )
        == 0
    )
    report = json.loads(out.read_text())
    assert report["subset"] == subset and report["num_examples"] == 50
    assert "a random 50 of 200, seed 3" in capsys.readouterr().out
