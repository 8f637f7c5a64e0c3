"""The report's per-dimension number is bits/dim only where it is one; the data layer knows every source's levels."""

import json
import math

import numpy as np
import pytest
import yaml

from vaekit.cli.main import main
from vaekit.data import load_data
from vaekit.evaluate.likelihood import PixelMeasure

D = 64  # 8x8 images


def test_restate_keeps_discrete_bits_and_corrects_dequantized_ones():
    report = {"log_likelihood": -100.0, "bits_per_dim": 100.0 / (D * math.log(2))}
    discrete = PixelMeasure("levels", 256).restate(report, D)
    assert discrete["bits_per_dim"] == report["bits_per_dim"] and "bits" in discrete["per_dim_unit"]
    binary = PixelMeasure("binary", 2).restate(report, D)
    assert binary["bits_per_dim"] == report["bits_per_dim"]
    deq = PixelMeasure("real", 256).restate(report, D)
    assert deq["bits_per_dim"] == pytest.approx((100.0 + D * math.log(255)) / (D * math.log(2)))
    assert deq["bits_per_dim"] == pytest.approx(report["bits_per_dim"] + math.log2(255))
    assert deq["log_likelihood_discrete"] == pytest.approx(-100.0 - D * math.log(255))
    assert deq["dequantization"]["levels"] == 256


@pytest.mark.parametrize(
    ("measure", "unit"),
    [
        (PixelMeasure("real", None), "nats per dimension (density)"),
        (PixelMeasure("binary", 256), "cross-entropy"),
        (PixelMeasure("binary", None), "cross-entropy"),
    ],
)
def test_restate_gives_no_bits_where_there_is_no_honest_conversion(measure, unit):
    report = {"log_likelihood": 150.0, "bits_per_dim": -150.0 / (D * math.log(2))}  # a sharp density: negative
    out = measure.restate(report, D)
    assert "bits_per_dim" not in out
    assert out["nats_per_dim"] == pytest.approx(-150.0 / D)
    assert unit in out["per_dim_unit"]


def train(tmp_path, data, *overrides) -> str:
    run = tmp_path / "run"
    args = ["model.latent_dim=2", "model.network.hidden=[16]", "train.progress=false", *overrides]
    assert main(["train", "--data", str(data), "--epochs", "2", "--out", str(run), *args]) == 0
    return str(run)


def evaluate(run: str, tmp_path, capsys) -> tuple[dict, str]:
    capsys.readouterr()
    out = tmp_path / "report.json"
    assert main(["evaluate", run, "--limit", "20", "--iw-samples", "20", "--out", str(out)]) == 0
    return json.loads(out.read_text()), capsys.readouterr().out


def test_a_gaussian_on_8_bit_data_reports_the_dequantized_bound(tmp_path, tiny_images, capsys):
    run = train(tmp_path, tiny_images, "model.likelihood.type=gaussian", "model.likelihood.learn_sigma=shared")
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["model"]["likelihood"]["levels"] == 256
    report, printed = evaluate(run, tmp_path, capsys)
    assert report["levels"] == 256 and report["dequantization"]["levels"] == 256
    expected = -(report["log_likelihood"] + D * math.log(1 / 255)) / (D * math.log(2))
    assert report["bits_per_dim"] == pytest.approx(expected)
    assert report["bits_per_dim"] > 0  # a bound on a probability of 256 values: never below 0
    assert "upper bound" in printed and "dequantized" in printed


def test_a_gaussian_on_continuous_data_reports_nats_per_dimension_not_bits(tmp_path, capsys):
    path = tmp_path / "floats.npy"
    np.save(path, np.random.default_rng(0).random((100, 8, 8), dtype=np.float32))
    run = train(tmp_path, path, "model.likelihood.type=gaussian", "model.likelihood.learn_sigma=shared")
    report, printed = evaluate(run, tmp_path, capsys)
    assert report["levels"] is None and "bits_per_dim" not in report
    assert report["nats_per_dim"] == pytest.approx(-report["log_likelihood"] / D)
    assert "nats per dimension (density)" in printed and "bits_per_dim" not in printed


def test_a_discretized_logistic_reports_bits_over_the_data_levels(tmp_path, tiny_images, capsys):
    run = train(tmp_path, tiny_images, "model.likelihood.type=discretized_logistic", "model.likelihood.components=2")
    report, _ = evaluate(run, tmp_path, capsys)
    assert report["bits_per_dim"] == pytest.approx(-report["log_likelihood"] / (D * math.log(2)))
    assert 0 < report["bits_per_dim"] < 20  # a probability of 256 values, from a model trained for 2 epochs
    assert "256 pixel values" in report["per_dim_unit"]


@pytest.mark.parametrize(
    ("values", "levels"),
    [
        (np.arange(64, dtype=np.uint8).reshape(1, 8, 8).repeat(10, 0), 256),
        (np.eye(8, dtype=bool)[None].repeat(10, 0), 2),
        (np.eye(8, dtype=np.uint8)[None].repeat(10, 0), 2),
        (np.linspace(0, 1, 64, dtype=np.float32).reshape(1, 8, 8).repeat(10, 0), None),
    ],
)
def test_arrays_from_a_path_record_their_levels(tmp_path, values, levels):
    path = tmp_path / "x.npy"
    np.save(path, values)
    assert load_data(str(path)).levels == levels


def test_digits_have_17_levels_on_their_grid():
    data = load_data("digits")
    assert data.levels == 17
    v = data.pixels("train") * 16
    assert (v - v.round()).abs().max() == 0


def test_the_rgb_preset_trains_on_an_image_folder_and_reports_bits(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    run = tmp_path / "run"
    args = ["--preset", "cifar10-dlogistic", "--data", str(folder), "--epochs", "1", "--out", str(run)]
    small = ["train.batch_size=4", "train.progress=false", "train.num_sample_images=4", "data.test_fraction=0.34"]
    small += ["model.network.channels=[4,4,4]", "model.network.hidden=[8]", "model.latent_dim=2"]  # the preset's shape
    assert main(["train", *args, *small]) == 0
    report, _ = evaluate(str(run), tmp_path, capsys)
    assert report["levels"] == 256 and "bits_per_dim" in report and "256 pixel values" in report["per_dim_unit"]


def test_the_8_bit_mnist_preset_builds_a_discretized_logistic_conv_vae():
    import torch

    from vaekit.config import load_config
    from vaekit.models import build_model

    config = load_config(preset="mnist-8bit-dlogistic", overrides=["model.likelihood.levels=256"])
    assert config.data.source == "mnist" and config.data.binarize == "none"
    model = build_model(config.model, (1, 28, 28))
    x = torch.randint(0, 256, (2, 1, 28, 28)).float() / 255
    lp = model.likelihood(model.posterior(x).mean).log_prob(x)
    assert lp.shape == (2,) and torch.isfinite(lp).all()
