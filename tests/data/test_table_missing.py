"""Missing cells in a table (data.missing): refused by default, naming them; with data.missing=model read as NaN
whatever the column's type, the statistics taken from the observed cells, recorded in the spec so that a new file
is read the same way; written back with every observed cell as it was."""

import numpy as np
import pandas as pd
import pytest
import torch

from vaekit.data.tables import (
    TableOptions,
    decode_rows,
    encode_frame,
    fill_missing,
    load_table,
    read_frame,
    summary_lines,
)
from vaekit.errors import DataError

MODEL = TableOptions(missing="model", missing_values=["?"], test_fraction=0.25)


def incomplete(path, n: int = 40):
    """A CSV with a real, an integer (few values), a count and a string column; some cells empty, some '?'."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 12, n).round(1),
            "stage": rng.integers(1, 4, n),
            "visits": rng.poisson(20, n) + np.arange(n) % 13,
            "city": rng.choice(["Oslo", "Lima", "Pune"], n),
        }
    ).astype(object)
    frame = frame.mask(rng.random(frame.shape) < 0.2, "")
    frame.loc[0, "age"] = "?"
    frame.loc[1, "city"] = "?"
    path.write_text(frame.to_csv(index=False))
    return path


def test_markers_and_empty_cells_are_missing_and_integer_columns_with_gaps_stay_integers(tmp_path):
    frame = read_frame(incomplete(tmp_path / "t.csv"), ["?"])
    assert pd.isna(frame.loc[0, "age"]) and pd.isna(frame.loc[1, "city"]) and frame.isna().sum().sum() > 20
    assert frame["age"].dtype == np.float64  # a real column stays float
    assert pd.api.types.is_integer_dtype(frame["stage"]) and pd.api.types.is_integer_dtype(frame["visits"])


def test_missing_cells_are_refused_by_default_naming_them(tmp_path):
    path = incomplete(tmp_path / "t.csv")
    with pytest.raises(DataError, match=r"missing cells .* row 2 \(line 3 of the file\).*data\.missing=model"):
        load_table(str(path), TableOptions(missing_values=["?"]))


def test_with_missing_model_cells_are_nan_and_statistics_come_from_the_observed_cells(tmp_path):
    path = incomplete(tmp_path / "t.csv")
    data = load_table(str(path), MODEL)
    spec = data.spec
    assert [(c.name, c.type) for c in spec.columns] == [
        ("age", "real"), ("stage", "categorical"), ("visits", "count"), ("city", "categorical")
    ]  # fmt: skip
    assert spec.preprocessing["missing"] == "model" and spec.preprocessing["missing_values"] == ["?"]
    assert spec.columns[1].categories == ("1", "2", "3") and spec.columns[3].categories == ("Lima", "Oslo", "Pune")
    frame = read_frame(path, ["?"])
    train = frame.iloc[sorted(set(range(len(frame))) - set(_test_rows(frame)))]
    observed = train["age"].dropna().to_numpy(dtype=float)
    assert spec.columns[0].mean == pytest.approx(observed.mean()) and spec.columns[0].std == pytest.approx(
        observed.std()
    )
    everything = torch.cat([data.train, data.test])
    assert int(everything.isnan().sum()) == int(frame.isna().sum().sum())
    # a new file is read as the run read its data: the spec's record of missing cells and markers wins
    again = load_table(str(path), TableOptions(test_fraction=0.25), spec)
    assert torch.equal(again.train.isnan(), data.train.isnan())
    assert torch.equal(again.train.nan_to_num(-9), data.train.nan_to_num(-9))
    lines = summary_lines(data)
    assert any("missing cells modelled" in line for line in lines) and any("city: categorical" in x for x in lines)


def _test_rows(frame: pd.DataFrame) -> list[int]:
    """The file's rows in the test split (the hold-out is seeded: the same rows as load_table's)."""
    from vaekit.data.tables import hold_out

    return list(hold_out(len(frame), 0.25, 0)[1])


def test_a_column_without_any_value_and_a_missing_label_are_refused(tmp_path):
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.5, np.nan], "empty": [np.nan] * 4, "y": ["u", "v", "u", "v"]})
    frame.to_csv(tmp_path / "e.csv", index=False)
    with pytest.raises(DataError, match=r"column 'empty' has no value in any of its 4 rows.*data\.drop=\[empty\]"):
        load_table(str(tmp_path / "e.csv"), MODEL)
    frame.drop(columns="empty").assign(y=["u", None, "u", "v"]).to_csv(tmp_path / "l.csv", index=False)
    with pytest.raises(DataError, match="label"):
        load_table(str(tmp_path / "l.csv"), TableOptions(missing="model", label="y"))


def test_decoding_keeps_a_missing_cell_missing_and_fill_missing_changes_only_missing_cells(tmp_path):
    path = incomplete(tmp_path / "t.csv")
    data = load_table(str(path), MODEL)
    frame = read_frame(path, ["?"])
    x, _ = encode_frame(frame.copy(), data.spec, "t.csv")
    decoded = decode_rows(x, data.spec)
    assert decoded.isna().equals(frame.isna())
    filled = fill_missing(frame, x.nan_to_num(1.0), data.spec)  # every missing cell: the model's number 1.0
    gaps = frame.isna().to_numpy()
    assert (filled.to_numpy()[~gaps] == frame.to_numpy()[~gaps]).all() and not filled.isna().any().any()
    assert set(filled.loc[frame["city"].isna(), "city"]) == {"Oslo"}  # category index 1
    assert set(filled.loc[frame["stage"].isna(), "stage"]) == {2}
    assert str(filled["stage"].dtype) == str(frame["stage"].dtype) == "Int64"
    age = data.spec.columns[0]
    assert filled.loc[0, "age"] == pytest.approx(age.mean + age.std)
