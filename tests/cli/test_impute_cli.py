"""Missing cells through the real `vaekit` command: refused without data.missing=model (nothing written), trained
with it, evaluated in nats per row, and filled in by `vaekit impute`: valid categories, dtypes kept, every observed
cell's text unchanged; an existing --out is refused without --force."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tiny_configs import TINY_TABLE_RUN
from vaekit.cli.main import main

TINY = [*TINY_TABLE_RUN, "train.num_sample_images=5"]
MODEL = ["data.missing=model", 'data.missing_values=["?"]', "objective.name=iwae", "objective.num_samples=3"]


def vaekit(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "vaekit", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def write_incomplete(path, n: int = 64) -> None:
    """A CSV with a real, an integer categorical, a string categorical and a binary column, about 15 % of the cells
    empty and one "?" marker; real values with two decimals and a trailing zero kept as text."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "height": [f"{v:.2f}" for v in rng.normal(170, 10, n)],
            "kids": rng.integers(0, 4, n).astype(str),
            "city": rng.choice(["Oslo", "Lima", "Pune"], n),
            "smoker": rng.choice(["yes", "no"], n),
        }
    )
    frame = frame.mask(rng.random(frame.shape) < 0.15, "")
    frame.loc[2, "height"] = "?"
    frame.loc[3, "height"] = "171.50"
    path.write_text(frame.to_csv(index=False))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("missing")
    write_incomplete(tmp / "people.csv")
    out = tmp / "run"
    r = vaekit("train", "--data", tmp / "people.csv", "--epochs", 2, "--out", out, *TINY, *MODEL, cwd=tmp)
    assert r.returncode == 0, r.stderr
    return tmp, out, r.stderr


def test_missing_cells_are_refused_by_default_with_nothing_written(run, capsys):
    tmp, _, _ = run
    code = main(["train", "--data", str(tmp / "people.csv"), "--epochs", "1", "--out", str(tmp / "refused"), *TINY])
    err = capsys.readouterr().err
    assert code == 2
    assert "missing cells" in err and "data.missing=model" in err and "line " in err
    assert not (tmp / "refused").exists()


def test_training_with_missing_cells_records_them_and_summarizes_them(run):
    tmp, out, log = run
    assert "missing cells modelled (data.missing=model)" in log and "kids: categorical (4: 0, 1, 2, 3);" in log
    spec = json.loads((out / "spec.json").read_text())
    assert spec["preprocessing"]["missing"] == "model" and spec["preprocessing"]["missing_values"] == ["?"]
    r = vaekit("evaluate", out, "--iw-samples", 20, cwd=tmp)
    assert r.returncode == 0, r.stderr
    assert "log_likelihood" in r.stdout and "nan" not in r.stdout.lower()


def test_impute_fills_every_missing_cell_and_keeps_every_observed_cell(run, capsys):
    tmp, out, _ = run
    r = vaekit("impute", out, "--data", tmp / "people.csv", "--out", tmp / "done.csv", "--num-samples", 30, cwd=tmp)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("wrote the 64 rows of") and "missing cells filled in" in r.stdout
    before = pd.read_csv(tmp / "people.csv", dtype=str, keep_default_na=False)
    after = pd.read_csv(tmp / "done.csv", dtype=str, keep_default_na=False)
    gaps = before.isin(["", "?"]).to_numpy()
    assert gaps.sum() > 20 and before.shape == after.shape and list(after.columns) == list(before.columns)
    assert (before.to_numpy()[~gaps] == after.to_numpy()[~gaps]).all()  # the text of every observed cell
    assert after.loc[3, "height"] == "171.50"
    typed = pd.read_csv(tmp / "done.csv")
    assert not typed.isna().any().any()
    assert typed["height"].dtype == np.float64 and typed["kids"].dtype == np.int64
    assert set(typed["kids"]) <= {0, 1, 2, 3} and set(typed["city"]) <= {"Oslo", "Lima", "Pune"}
    assert set(typed["smoker"]) <= {"yes", "no"}

    code = main(["impute", str(out), "--data", str(tmp / "people.csv"), "--out", str(tmp / "done.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "exists" in err and "--force" in err


def test_impute_draws_write_a_draw_column_and_the_spread(run):
    tmp, out, _ = run
    r = vaekit(
        "impute", out, "--data", tmp / "people.csv", "--out", tmp / "draws.parquet", "--draws", 3, "--spread",
        tmp / "spread.csv", "--num-samples", 20, "--seed", 4, cwd=tmp,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    draws, spread = pd.read_parquet(tmp / "draws.parquet"), pd.read_csv(tmp / "spread.csv")
    assert list(draws.columns) == ["draw", "height", "kids", "city", "smoker"] and len(draws) == 3 * 64
    assert sorted(set(draws["draw"])) == [0, 1, 2] and not draws.isna().any().any()
    assert spread.shape == (64, 4) and (spread.to_numpy() >= 0).all()
    observed = pd.read_csv(tmp / "people.csv", na_values=["?"]).notna().to_numpy()
    assert (spread.to_numpy()[observed] == 0).all()
