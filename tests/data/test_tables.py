"""Tables as data: types inferred and overridden, values and types kept through encoding and files, and every bad
new file refused with the column and the row named."""

import numpy as np
import pandas as pd
import pytest

from vaekit.data.tables import (
    TABLE_SOURCES,
    TableOptions,
    decode_rows,
    encode_frame,
    infer_type,
    is_table_source,
    load_table,
    read_frame,
    write_table,
)
from vaekit.errors import DataError
from vaekit.spec import DataSpec


def people(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": [f"p{i:04d}" for i in range(n)],
            "age": rng.normal(40, 12, n).round(1),
            "visits": rng.poisson(20, n).astype(np.int64) + np.arange(n) % 13,  # many values: a count
            "smoker": rng.choice(["yes", "no"], n),
            "city": rng.choice(["Oslo", "Lima", "Pune"], n),
            "stage": rng.integers(1, 4, n),  # few integer values: categorical
            "country": ["NO"] * n,  # constant
            "flag": rng.integers(0, 2, n).astype(bool),
        }
    )


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "people.csv"
    people().to_csv(path, index=False)
    return path


def test_column_types_are_inferred():
    frame = people()
    kinds = {name: infer_type(frame[name]) for name in frame.columns}
    assert kinds == {
        "id": "id",
        "age": "real",
        "visits": "count",
        "smoker": "binary",
        "city": "categorical",
        "stage": "categorical",
        "country": None,
        "flag": "binary",
    }


def test_a_table_keeps_its_values_and_types_through_encoding_and_files(csv, tmp_path):
    data = load_table(str(csv), TableOptions(test_fraction=0.25))
    spec = data.spec
    assert [c.name for c in spec.columns] == ["age", "visits", "smoker", "city", "stage", "flag"]
    assert any("'id'" in w for w in data.warnings) and any("'country'" in w for w in data.warnings)
    both = pd.concat([decode_rows(data.train, spec), decode_rows(data.test, spec)], ignore_index=True)
    original = people()[both.columns]
    key = ["age", "visits"]
    both, original = (f.sort_values(key).reset_index(drop=True) for f in (both, original))
    np.testing.assert_allclose(both["age"], original["age"], rtol=1e-6)
    for name in ("visits", "smoker", "city", "stage", "flag"):
        assert both[name].tolist() == original[name].tolist()
        assert both[name].dtype == original[name].dtype
    for suffix in (".csv", ".tsv", ".parquet"):
        out = tmp_path / f"back{suffix}"
        write_table(both, out)
        back = read_frame(out)
        assert list(back.columns) == list(both.columns)
        assert back["city"].tolist() == both["city"].tolist() and back["visits"].dtype == np.int64
        np.testing.assert_allclose(back["age"], both["age"], rtol=1e-6)


def test_real_columns_are_standardized_with_the_training_split(csv):
    data = load_table(str(csv), TableOptions(test_fraction=0.25))
    j = data.spec.column_names().index("age")
    assert abs(float(data.train[:, j].mean())) < 1e-5 and abs(float(data.train[:, j].std(unbiased=False)) - 1) < 1e-5
    assert data.spec.to_json() and DataSpec.from_json(data.spec.to_json()) == data.spec


def test_overrides_drop_and_label(csv):
    options = TableOptions({"stage": "count"}, ["flag"], "city", 0.25)
    data = load_table(str(csv), options)
    assert data.spec.column_names() == ["age", "visits", "smoker", "stage"]
    assert data.spec.columns[3].type == "count" and data.spec.label.categories == ("Lima", "Oslo", "Pune")
    assert data.train_labels.dtype.is_floating_point is False and int(data.train_labels.max()) <= 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (TableOptions({"agee": "real"}), "data.columns names column 'agee'"),
        (TableOptions({"age": "reel"}), "Did you mean 'real'"),
        (TableOptions(drop=["nope"]), "data.drop names column 'nope'"),
        (TableOptions(label="citty"), "Did you mean 'city'"),
    ],
)
def test_bad_options_name_the_column(csv, options, message):
    with pytest.raises(DataError, match=message):
        load_table(str(csv), options)


def test_missing_cells_are_named_with_their_rows(tmp_path):
    frame = people()
    frame.loc[3, "age"] = np.nan
    frame.loc[7, "city"] = None
    path = tmp_path / "holes.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as err:
        load_table(str(path), TableOptions())
    text = str(err.value)
    assert "2 missing cells" in text and "column 'age' row 4 (line 5 of the file)" in text
    assert "column 'city' row 8" in text and "dropna" in text


def test_rows_are_named_as_the_file_numbers_them_whichever_split_they_fall_in(tmp_path):
    frame = people()
    frame.loc[[3, 40], "age"] = np.nan  # with half held out, the two rows land in either split at other positions
    frame.to_csv(tmp_path / "holes.csv", index=False)
    with pytest.raises(DataError, match=r"column 'age' row 4 \(line 5 of the file\), column 'age' row 41 \(line 42"):
        load_table(str(tmp_path / "holes.csv"), TableOptions(test_fraction=0.5, split_seed=3))
    spec = load_table(str(tmp_path / "holes.csv"), TableOptions(test_fraction=0.5, split_seed=3, drop=["age"])).spec
    frame = people().drop(columns=["age"])
    frame.loc[40, "city"] = "Rome"
    frame.to_csv(tmp_path / "new.csv", index=False)
    with pytest.raises(DataError, match="column 'city' row 41 holds 'Rome'"):
        load_table(str(tmp_path / "new.csv"), TableOptions(test_fraction=0.5, split_seed=3), spec)


def test_a_new_file_is_read_as_the_run_read_its_data(csv, tmp_path):
    spec = load_table(str(csv), TableOptions(test_fraction=0.25)).spec
    frame = people(30, seed=1)
    x, _ = encode_frame(frame.copy(), spec, "new.csv")
    assert x.shape == (30, 6)
    j = spec.column_names().index("age")
    column = spec.columns[j]
    np.testing.assert_allclose(x[:, j].numpy(), ((frame["age"] - column.mean) / column.std).to_numpy(), rtol=1e-5)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=["city"]), r"lacks the column \['city'\]"),
        (lambda f: f.assign(city=["Rome"] + list(f["city"][1:])), "column 'city' row 1 holds 'Rome', a category"),
        (lambda f: f.assign(age=["old"] + list(f["age"][1:])), "column 'age' holds numbers, but row 1 holds 'old'"),
    ],
)
def test_a_bad_new_file_is_refused_naming_the_column_and_row(csv, change, message):
    spec = load_table(str(csv), TableOptions(test_fraction=0.25)).spec
    with pytest.raises(DataError, match=message):
        encode_frame(change(people(10, seed=2)), spec, "new.csv")


def test_two_dimensional_arrays_and_bundled_tables_are_tables(tmp_path):
    array = np.random.default_rng(0).normal(size=(50, 3))
    np.save(tmp_path / "rows.npy", array)
    np.save(tmp_path / "images.npy", np.zeros((5, 8, 8), dtype=np.uint8))
    assert is_table_source(str(tmp_path / "rows.npy")) and not is_table_source(str(tmp_path / "images.npy"))
    data = load_table(str(tmp_path / "rows.npy"), TableOptions(test_fraction=0.2))
    assert data.spec.column_names() == ["x0", "x1", "x2"] and (len(data.train), len(data.test)) == (40, 10)
    for name in TABLE_SOURCES:
        assert is_table_source(name)
    wine = load_table("wine", TableOptions(test_fraction=0.2, label="target"))
    assert len(wine.spec.columns) == 13 and all(c.type == "real" for c in wine.spec.columns)
    assert wine.spec.label.categories == ("class_0", "class_1", "class_2")
