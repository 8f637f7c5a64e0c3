"""The report of a table run: each column real against sampled, correlations, KL per dimension, the evaluation in
nats per row with each column's share; no image section. And posterior collapse said out loud, for any kind."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from report.tiny_runs import people
from vaekit.evaluate.diagnostics import COLLAPSE_NATS, collapse_warning
from vaekit.report import ReportOptions, build_report, render
from vaekit.report.views import load_split
from vaekit.run import load_run
from vaekit.views.table_figures import column_values, correlations, numeric_bins

FAST = ReportOptions(quick_examples=50, quick_iw_samples=10, table_samples=500)
IMAGE_SECTIONS = ("Samples from the prior", "Latent traversals", "Codebook usage")


@pytest.fixture(scope="module")
def table_report(runs):
    run = load_run(runs("table"))
    report = build_report(run, FAST)
    return run, {s.title: s.body for s in report.sections}, render(report)


def pngs(body: str) -> dict[str, Image.Image]:
    """alt text -> the decoded PNG of each <img> in an HTML fragment."""
    found = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]*)"', body)
    return {alt: Image.open(io.BytesIO(base64.b64decode(data))) for data, alt in found}


def test_a_table_report_has_the_tables_sections_and_no_image_section(table_report):
    run, sections, page = table_report
    for title in ("Run", "Training curves", "Columns: real against sampled", "Correlations", "Sampled rows"):
        assert title in sections
    assert "KL per latent dimension" in sections and "Evaluation" in sections
    assert not [t for t in IMAGE_SECTIONS if t in sections]
    assert "5 columns (2 real, 1 count, 1 binary, 1 categorical); label column &#x27;group&#x27;" in sections["Run"]
    assert "<script" not in page and not re.search(r"https?://", page)  # self-contained, as for images


def test_each_column_has_its_marginal_figure(table_report):
    run, sections, _ = table_report
    figures = pngs(sections["Columns: real against sampled"])
    assert sorted(figures) == sorted(f"marginal of column {name}" for name in run.spec.column_names())
    assert all(image.width > 200 and image.height > 150 for image in figures.values())
    assert "500 rows drawn from the model" in sections["Columns: real against sampled"]


def test_the_correlations_and_the_kl_per_dimension_are_drawn(table_report):
    _, sections, _ = table_report
    assert list(pngs(sections["Correlations"])) == ["correlation matrices, real and sampled"]
    assert "3 real and count columns" in sections["Correlations"]  # height, weight, visits
    assert list(pngs(sections["KL per latent dimension"])) == ["KL per dimension"]


def test_the_evaluation_is_in_nats_per_row_with_each_columns_share(table_report):
    run, sections, _ = table_report
    body = sections["Evaluation"]
    assert "Nats per row" in body and "Reconstruction per column" in body
    shares = {
        name: float(value)
        for name, value in re.findall(r"<tr><td>(\w+)</td><td>\w+</td><td>(-?[0-9.e+-]+)</td></tr>", body)
    }
    assert sorted(shares) == sorted(run.spec.column_names())
    reconstruction = float(re.search(r"<th>reconstruction</th><td>(-?[0-9.]+)</td>", body).group(1))
    assert sum(shares.values()) == pytest.approx(reconstruction, abs=0.05)  # the columns' shares add up


def test_sampled_rows_are_shown_in_the_tables_units(table_report):
    run, sections, _ = table_report
    body = sections["Sampled rows"]
    header = re.findall(r"<th>([^<]*)</th>", body)
    assert header == run.spec.column_names()
    rows = re.findall(r"<tr>((?:<td>[^<]*</td>)+)</tr>", body)
    cells = [re.findall(r"<td>([^<]*)</td>", r) for r in rows]
    assert len(cells) == FAST.table_rows_shown
    for row in cells:
        values = dict(zip(header, row, strict=True))
        assert values["city"] in {"Oslo", "Lima", "Pune"} and values["smoker"] in {"yes", "no"}
        assert re.fullmatch(r"\d+", values["visits"])  # a count: a whole number


def test_column_values_are_the_tables_own_values(runs):
    """The real rows of the marginals are the CSV's rows: numbers in their units, categories as indices."""
    run = load_run(runs("table"))
    x = load_split(run, "test").x  # (N, D)
    values = dict(zip(run.spec.column_names(), column_values(run.spec, x), strict=True))
    source = people()
    for name in ("height", "weight"):  # every real value is one of the source's (float32 holds 7 digits)
        assert np.abs(values[name][:, None] - source[name].to_numpy()[None]).min(1).max() < 1e-3 * 200
    assert set(values["visits"]) <= set(source["visits"].astype(float))
    city = run.spec.columns[run.spec.column_names().index("city")]
    assert {city.categories[int(i)] for i in values["city"]} <= {"Oslo", "Lima", "Pune"}


def test_histogram_bins_span_the_real_values_and_count_bins_are_whole_numbers():
    from vaekit.spec import Column

    real = np.array([1.0, 2.0, 5.0])
    bins = numeric_bins(Column("r", "real"), real)
    assert bins[0] < 1.0 and bins[-1] > 5.0 and bins[-1] - bins[0] == pytest.approx(4.0 * 1.2)
    counts = numeric_bins(Column("c", "count"), np.array([3.0, 7.0]))
    assert np.allclose(counts % 1, 0.5) and counts[0] < 3 and counts[-1] > 7  # one bin per whole number


def test_correlations_match_numpy_and_are_blank_for_a_constant_column():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    frame["c"] = frame["a"] * 2 + 0.1 * frame["b"]
    assert np.allclose(correlations(frame), np.corrcoef(frame.to_numpy().T))
    frame["d"] = 1.0
    matrix = correlations(frame)
    assert np.isnan(matrix[3]).all() and not np.isnan(matrix[:3, :3]).any()


def test_collapse_warning_is_said_when_every_dimension_is_under_the_threshold():
    message = collapse_warning(torch.tensor([0.001, 0.004, 0.0]))
    assert message.startswith("posterior collapse: all 3 latent dimensions")
    assert "objective.warmup_epochs" in message and "objective.free_bits" in message  # what to try
    assert collapse_warning(torch.tensor([0.0, COLLAPSE_NATS], dtype=torch.float64)) is None  # one carries information
    assert collapse_warning(torch.tensor([])) is None


@pytest.mark.parametrize("kind", ["table-collapsed"])
def test_a_collapsed_run_gets_a_visible_warning(runs, kind):
    run = load_run(runs(kind))  # beta = 50: every KL driven to ~0
    report = build_report(run, FAST)
    assert len(report.warnings) == 1 and "posterior collapse" in report.warnings[0]
    page = render(report)
    warning = re.search(r'<p class="warning"><strong>Warning:</strong> ([^<]+)</p>', page)
    assert warning and "objective.warmup_epochs=10" in warning.group(1)
    assert page.index('class="warning"') < page.index("<nav>")  # at the top, before any section
    kl = [float(v) for v in re.findall(r"largest ([0-9.e-]+)\)", warning.group(1))]
    assert kl and kl[0] < COLLAPSE_NATS


@pytest.mark.parametrize("kind", ["vae", "table"])
def test_a_healthy_run_gets_no_warning(runs, kind):
    report = build_report(load_run(runs(kind)), FAST)
    assert report.warnings == [] and 'class="warning"' not in render(report)


def test_the_synthetic_data_section_measures_every_column_and_pair(table_report):
    run, sections, _ = table_report
    body = sections["Synthetic data"]
    assert "Measured for this report on 500 rows drawn with seed 0" in body
    shapes = dict(re.findall(r"<tr><td>(\w+)</td><td>\w+</td><td>(KSComplement|TVComplement)</td>", body))
    assert shapes == {"height": "KSComplement", "weight": "KSComplement", "visits": "KSComplement"} | {
        "smoker": "TVComplement",
        "city": "TVComplement",
    }
    assert "Pair trends, the 10 lowest" in body and "CorrelationSimilarity" in body
    share = float(re.search(r"closer than the test&#x27;s 5th percentile</th><td>([0-9.]+)</td>", body).group(1))
    assert 0 <= share <= 1


def test_the_synthetic_data_section_shows_an_evaluate_synthetic_report_of_the_run(runs, tmp_path):
    import shutil

    from vaekit.cli.main import main
    from vaekit.report.options import Context
    from vaekit.report.tables import synthetic_section

    path = shutil.copytree(runs("table"), tmp_path / "run")
    assert main(["evaluate", str(path), "--synthetic", "200", "--target", "city", "--out", str(path / "syn.json")]) == 0
    body = synthetic_section(load_run(path), Context(load_run(path), FAST, None, None, lambda msg: None))
    assert "From syn.json in the run directory." in body
    assert re.search(r"<th>TSTR accuracy \(city\)</th><td>[0-9.]+</td>", body)
    assert "rows: synthetic / real train / real test</th><td>200 / 90 / 30</td>" in body
