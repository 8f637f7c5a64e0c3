"""A table through the real `vaekit` command: train on a CSV, then every use writes tables in the table's own
columns and units; bad new files and settings that do not apply to tables are refused with nothing written."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tiny_configs import TINY_TABLE_RUN

TINY = [*TINY_TABLE_RUN, "train.num_sample_images=7"]


def vaekit(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "vaekit", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def table(n: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "height": rng.normal(170, 10, n).round(2),
            "visits": rng.poisson(15, n) + np.arange(n) % 12,
            "smoker": rng.choice(["yes", "no"], n),
            "city": rng.choice(["Oslo", "Lima", "Pune"], n),
        }
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tables")
    table().to_csv(tmp / "people.csv", index=False)
    out = tmp / "run"
    r = vaekit("train", "--data", tmp / "people.csv", "--epochs", 3, "--out", out, *TINY, cwd=tmp)
    assert r.returncode == 0, r.stderr
    return tmp, out, r.stderr


def test_training_summarizes_the_columns_and_writes_a_spec_and_samples(run):
    tmp, out, log = run
    assert "60 train / 20 test rows, 4 columns (1 real, 1 count, 1 binary, 1 categorical)" in log
    assert "city: categorical (3: Lima, Oslo, Pune)" in log
    spec = json.loads((out / "spec.json").read_text())
    assert spec["kind"] == "table" and [c["name"] for c in spec["columns"]] == ["height", "visits", "smoker", "city"]
    samples = pd.read_csv(out / "samples.csv")
    assert list(samples.columns) == ["height", "visits", "smoker", "city"] and len(samples) == 7
    assert set(samples["city"]) <= {"Oslo", "Lima", "Pune"} and samples["visits"].dtype == np.int64
    assert "type: columns" in (out / "config.yaml").read_text()  # the table chose its likelihood, recorded


def test_sample_reconstruct_encode_interpolate_traverse_write_tables(run):
    tmp, out, _ = run
    r = vaekit("sample", out, "-n", 5, "--seed", 2, "--out", tmp / "s.parquet", cwd=tmp)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"wrote 5 samples (4 columns) to {tmp / 's.parquet'}"
    samples = pd.read_parquet(tmp / "s.parquet")
    assert samples.shape == (5, 4) and set(samples["smoker"]) <= {"yes", "no"}

    r = vaekit("reconstruct", out, "-n", 3, "--out", tmp / "r.csv", cwd=tmp)
    assert r.returncode == 0, r.stderr
    pairs = pd.read_csv(tmp / "r.csv")
    assert list(pairs["version"]) == ["input", "reconstruction"] * 3 and list(pairs["row"]) == [0, 0, 1, 1, 2, 2]

    r = vaekit("encode", out, "--out", tmp / "z.csv", cwd=tmp)
    assert r.returncode == 0, r.stderr
    z = pd.read_csv(tmp / "z.csv")
    assert list(z.columns) == ["row", "z0", "z1"] and list(z["row"]) == list(range(20))

    r = vaekit("interpolate", out, "--pair", 0, 1, "--steps", 4, "--out", tmp / "i.csv", cwd=tmp)
    assert r.returncode == 0, r.stderr
    assert list(pd.read_csv(tmp / "i.csv")["step"]) == [0, 1, 2, 3]

    r = vaekit("traverse", out, "--steps", 3, "--out", tmp / "t.csv", cwd=tmp)
    assert r.returncode == 0, r.stderr
    assert len(pd.read_csv(tmp / "t.csv")) == 6 and (tmp / "t_kl.png").is_file()


def test_evaluate_reports_nats_per_row_and_each_column(run):
    tmp, out, _ = run
    r = vaekit("evaluate", out, "--iw-samples", 50, "--out", tmp / "e.json", cwd=tmp)
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp / "e.json").read_text())
    assert "bits_per_dim" not in report and "nats per column" in report["per_dim_unit"]
    assert report["log_likelihood"] >= report["elbo"] - 1.0
    per_column = report["reconstruction_per_column"]
    assert list(per_column) == ["height", "visits", "smoker", "city"]
    assert sum(per_column.values()) == pytest.approx(report["reconstruction"], abs=3.0)  # one draw each


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=["city"]), "lacks the column ['city']"),
        (lambda f: f.assign(city=["Rome"] + list(f["city"][1:])), "column 'city' row 1 holds 'Rome'"),
    ],
)
def test_a_bad_new_file_is_refused_and_nothing_is_written(run, change, message):
    tmp, out, _ = run
    change(table(12, seed=3)).to_csv(tmp / "bad.csv", index=False)
    r = vaekit("encode", out, "--data", tmp / "bad.csv", "--out", tmp / "bad_z.csv", cwd=tmp)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert not (tmp / "bad_z.csv").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["model.network.type=conv"], "model.network.type=conv does not take table data"),
        (["data.resize=28"], "'data.resize' is not used by data of kind table"),
        (["model.likelihood.type=gaussian", "model.likelihood.learn_sigma=none"], "For a table use model.likelihood"),
        (["model.type=vqvae", "objective.name=vq"], "model.type=vqvae models image data"),
    ],
)
def test_what_does_not_apply_to_tables_is_refused(run, args, message):
    tmp, _, _ = run
    base = [a for a in TINY if not a.startswith("model.")] if "model.type=vqvae" in args else TINY
    r = vaekit("train", "--data", tmp / "people.csv", "--out", tmp / "never", *base, *args, cwd=tmp)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert not (tmp / "never").exists()


def test_a_conditional_vae_on_a_label_column_samples_rows_of_a_class(run):
    tmp, _, _ = run
    out = tmp / "cvae"
    args = ["model.type=cvae", "data.label=city", "--epochs", 1]
    r = vaekit("train", "--data", tmp / "people.csv", "--out", out, *TINY, *args, cwd=tmp)
    assert r.returncode == 0, r.stderr
    assert "label 'city' (3 classes)" in r.stderr and "num_classes: 3" in (out / "config.yaml").read_text()
    r = vaekit("sample", out, "-n", 4, "--label", 1, "--out", tmp / "oslo.csv", cwd=tmp)
    assert r.returncode == 0, r.stderr
    rows = pd.read_csv(tmp / "oslo.csv")
    assert list(rows["city"]) == ["Oslo"] * 4 and "city" not in list(rows.columns)[1:]


def test_training_says_when_every_latent_dimension_collapsed(run):
    tmp, _, _ = run
    r = vaekit("train", "--data", tmp / "people.csv", "--out", tmp / "beta", *TINY, "objective.beta=200", cwd=tmp)
    assert r.returncode == 0, r.stderr
    assert "warning: posterior collapse: all 2 latent dimensions" in r.stderr and "objective.warmup_epochs" in r.stderr
