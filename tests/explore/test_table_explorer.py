"""The explorer of a table run over HTTP: decoded rows in the table's own units (categories by name) with a bar per
column, the map of test rows coloured by the label column, a clicked row and its reconstruction; the image-only
endpoints refused with a message."""

from __future__ import annotations

import math

import pytest
from starlette.testclient import TestClient

from report.tiny_runs import people
from vaekit.explore import create_app
from vaekit.run import load_run

COLUMNS = ["height", "weight", "visits", "smoker", "city"]
CATEGORIES = {"smoker": ["no", "yes"], "city": ["Lima", "Oslo", "Pune"]}


@pytest.fixture(scope="module")
def client(runs):
    return TestClient(create_app(load_run(runs("table"))))


@pytest.fixture(scope="module")
def info(client):
    return client.get("/api/info").json()


def test_info_describes_the_columns_and_the_label_column(info):
    assert info["kind"] == "table" and info["example_word"] == "row" and info["image_tools"] is False
    assert [c["name"] for c in info["columns"]] == COLUMNS
    assert {c["name"]: c["categories"] for c in info["columns"] if c["categories"]} == CATEGORIES
    assert info["label_column"] == {"name": "group", "categories": ["a", "b", "c"]}
    source = people()
    for column in info["columns"]:  # the bars' ends: the test split's min and max, within the source's
        if column["type"] in ("real", "count"):
            low, high = column["range"]
            assert source[column["name"]].min() - 1e-3 <= low < high <= source[column["name"]].max() + 1e-3
        else:
            assert column["range"] is None


def check_row(row: dict) -> None:
    """A row in the table's units: every column, numbers as numbers, whole counts, categories by name."""
    assert list(row) == COLUMNS
    assert isinstance(row["height"], float) and isinstance(row["weight"], float)
    assert isinstance(row["visits"], int) and row["visits"] >= 0
    for name, categories in CATEGORIES.items():
        assert row[name] in categories


@pytest.mark.parametrize("z", [[0, 0], [2.5, -1.5], [-1000, 1000]])
def test_decode_gives_a_row_in_the_tables_units_and_a_bar_per_column(client, info, z):
    out = client.post("/api/decode", json={"z": z}).json()
    row, bars = out["row"], out["bars"]
    check_row(row)
    assert [b["name"] for b in bars] == COLUMNS and out["ms"] > 0
    for bar, column in zip(bars, info["columns"], strict=True):
        if column["categories"]:  # the shown category is the most probable one
            probabilities = bar["probabilities"]
            assert len(probabilities) == len(column["categories"]) and sum(probabilities) == pytest.approx(1, abs=1e-3)
            most = column["categories"][max(range(len(probabilities)), key=probabilities.__getitem__)]
            assert row[column["name"]] == most or max(probabilities) == pytest.approx(0.5, abs=1e-3)
        else:  # the position puts the value between the test split's min (0) and max (1)
            low, high = column["range"]
            assert math.isfinite(bar["position"])
            assert low + bar["position"] * (high - low) == pytest.approx(row[column["name"]], rel=1e-6, abs=1e-6)


def test_sliders_change_the_decoded_row(client):
    rows = [client.post("/api/decode", json={"z": [v, v]}).json()["row"] for v in (-2.0, 2.0)]
    assert rows[0] != rows[1]


def test_a_test_row_comes_with_its_reconstruction_and_z(client):
    source = people()
    for index in (0, 7):
        out = client.post("/api/test", json={"index": index}).json()
        check_row(out["row"])
        check_row(out["decoded"]["row"])
        assert len(out["z"]) == 2 and out["label"] in (0, 1, 2)
        match = source[(source["city"] == out["row"]["city"]) & (source["smoker"] == out["row"]["smoker"])]
        assert (abs(match["height"] - out["row"]["height"]) < 1e-3).any()  # a row of the source, in its units


def test_the_map_shows_the_test_rows_coloured_by_the_label_column(client, info):
    out = client.get("/api/map").json()
    assert len(out["points"]) == info["num_test"] == 30  # 25% of 120 rows
    assert len(out["labels"]) == len(out["points"]) and set(out["labels"]) <= {0, 1, 2}
    assert out["grid"] is None  # no picture under a table's map
    assert out["axes"][0].startswith("z")


def test_interpolation_gives_rows_from_one_test_row_to_another(client):
    out = client.post("/api/interpolate", json={"a": 0, "b": 5, "steps": 4}).json()
    assert len(out["rows"]) == 4 and "images" not in out
    for row in out["rows"]:
        check_row(row)
    ends = [client.post("/api/test", json={"index": i}).json()["decoded"]["row"] for i in (0, 5)]
    for got, end in zip([out["rows"][0], out["rows"][-1]], ends, strict=True):  # from one reconstruction to the other
        assert got == {k: pytest.approx(v, rel=1e-5) if isinstance(v, float) else v for k, v in end.items()}


@pytest.mark.parametrize(
    "path, words",
    [
        ("/api/image", "needs a run on images"),
        ("/api/decode_codes", "needs a model with codes"),
        ("/api/resample_codes", "needs a model with codes"),
    ],
)
def test_image_only_endpoints_answer_404_with_a_message(client, path, words):
    response = client.post(path, json={"image": "data:image/png;base64,", "codes": [[0]]})
    assert response.status_code == 404 and words in response.json()["error"]
