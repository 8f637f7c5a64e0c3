"""`vaekit report`: one self-contained HTML file whose sections follow the model's capabilities."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import shutil

import pytest
import torch
from PIL import Image

from vaekit.cli.main import main
from vaekit.report import ReportOptions, build_report, render
from vaekit.report.build import found_reports
from vaekit.report.views import images_uri
from vaekit.run import load_run

FAST = ReportOptions(quick_examples=50, quick_iw_samples=10)


def section_titles(page: str) -> list[str]:
    return re.findall(r"<h2>([^<]+)</h2>", page)


def test_report_cli_writes_one_self_contained_file(runs, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(runs("vae")), "--out", str(out), "--quick-examples", "50"]) == 0
    page = out.read_text()
    assert out.stat().st_size < 3_000_000
    assert not re.search(r"https?://", page), "the report references a network address"
    assert "<script" not in page and "<link" not in page  # nothing to run, nothing to fetch
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "default-src 'none'" in page  # the browser is told to fetch nothing
    titles = section_titles(page)
    for title in ("Run", "Training curves", "Samples from the prior", "Reconstructions", "Latent traversals"):
        assert title in titles
    assert "KL per latent dimension" in titles and "Evaluation" in titles
    assert "K = 100" in page and "50 test examples" in page  # the quick evaluation states its K and size
    assert f"vaekit train {runs('vae')}/config.yaml --out" in page  # the command that reproduces the run
    assert "wrote" in capsys.readouterr().out


def test_traversal_rows_name_their_dimension_and_kl_and_mark_collapsed_ones(runs):
    report = build_report(load_run(runs("vae")), FAST)
    body = next(s.body for s in report.sections if s.title == "Latent traversals")
    rows = re.findall(r"<tr class=\"dim( collapsed-row)?\"><th>z(\d+): KL ([0-9.]+)", body)
    assert sorted(int(d) for _, d, _ in rows) == [0, 1, 2, 3]  # one row per dimension
    kls = [float(kl) for _, _, kl in rows]
    assert kls == sorted(kls, reverse=True)  # by decreasing KL
    for collapsed, _, kl in rows:  # KL shown to 3 decimals; collapsed: under 0.01 nats
        assert float(kl) <= 0.01 if collapsed else float(kl) >= 0.01


@pytest.mark.parametrize(
    "kind, present, absent",
    [
        ("cvae", ["Latent traversals", "KL per latent dimension"], ["Codebook usage", "KL per layer"]),
        ("hvae", ["Latent traversals", "KL per layer"], ["KL per latent dimension", "Codebook usage"]),
        ("vqvae", ["Codebook usage", "Samples from the prior"], ["Latent traversals", "KL per latent dimension"]),
    ],
)
def test_sections_follow_the_models_capabilities(runs, kind, present, absent):
    titles = [s.title for s in build_report(load_run(runs(kind)), FAST).sections]
    assert "Evaluation" in titles
    for title in present:
        assert title in titles
    for title in absent:
        assert title not in titles


def test_an_evaluate_report_in_the_run_directory_is_used_and_disentanglement_scores_shown(runs, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(runs("vae"), run_dir)
    evaluation = {"elbo": -12.5, "log_likelihood": -12.0, "num_examples": 7, "iw_samples": 5000, "seconds": 1.0}
    (run_dir / "evaluate.json").write_text(json.dumps(evaluation))
    scores = {"mig": 0.25, "factorvae_score": 0.5, "beta_vae_score": 0.75, "dci_disentanglement": 0.125}
    (run_dir / "dis.json").write_text(json.dumps({**scores, "num_examples": 3, "elbo": -1.0, "seconds": 2.0}))
    (run_dir / "other.json").write_text("[1, 2]")  # not a report: ignored
    found, disentanglement = found_reports(run_dir)
    assert found["file"] == "evaluate.json" and disentanglement["file"] == "dis.json"
    page = render(build_report(load_run(run_dir), FAST))
    assert "From evaluate.json in the run directory" in page and "-12.5000" in page and "5000" in page
    assert "Disentanglement" in section_titles(page) and "0.1250" in page
    assert "quick evaluation" not in page


def test_train_with_report_writes_it_into_the_run(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--data", "digits", "--epochs", "1", "--out", str(out), "--report"]
    args += ["model.latent_dim=2", "model.network.hidden=[8]", "train.progress=false", "train.num_sample_images=4"]
    assert main(args) == 0
    page = (out / "report.html").read_text()
    assert "Latent traversals" in section_titles(page)


def test_report_refuses_a_bad_out_path(runs, tmp_path, capsys):
    assert main(["report", str(runs("vae")), "--out", str(tmp_path / "report.pdf")]) == 2
    assert "must end in .html" in capsys.readouterr().err
    assert not (tmp_path / "report.pdf").exists()


def size_of(uri: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(uri.partition(",")[2]))) as image:
        return image.size


def section(report, title: str) -> str:
    return next(s.body for s in report.sections if s.title == title)


def test_the_evaluation_table_states_its_units_as_evaluate_prints_them(runs, capsys):
    """A Bernoulli on the digits' 17 grey levels: evaluate's caveat (not a likelihood) is in the report too."""
    assert main(["evaluate", str(runs("vae")), "--iw-samples", "10", "--limit", "50"]) == 0
    printed = capsys.readouterr().out
    unit = re.search(r"^per dimension: (.+)$", printed, re.M)[1]
    assert "not a likelihood" in unit
    body = section(build_report(load_run(runs("vae")), FAST), "Evaluation")
    assert html.escape(unit) in body and "nats_per_dim" in body  # the per-dimension number and what it is
    for key in re.findall(r"^(\w+) +-?\d", printed, re.M):  # every number evaluate prints, by its name
        assert f"<th>{key}</th>" in body


def test_the_quick_evaluation_states_the_number_of_examples_it_used(runs):
    """The test split holds 180 digits: a quick evaluation of 'up to 500' says 180, in the log and on the page."""
    lines = []
    report = build_report(load_run(runs("vae")), ReportOptions(quick_examples=500, quick_iw_samples=10), lines.append)
    logged = [line for line in lines if line.startswith("quick evaluation")]
    assert logged == ["quick evaluation (K=10, 180 test examples)"]
    assert "180 test examples" in section(report, "Evaluation") and "500" not in section(report, "Evaluation")


@pytest.mark.parametrize("shown, rows, cols", [(5, 2, 5), (8, 2, 8), (12, 4, 8)])
def test_reconstructions_sit_below_their_inputs_in_rows_of_their_own(runs, shown, rows, cols):
    report = build_report(load_run(runs("vae")), ReportOptions(num_reconstructions=shown, quick_examples=20))
    body = section(report, "Reconstructions")
    uri = re.search(r'src="(data:image/png;base64,[^"]+)" alt="test images and reconstructions"', body)[1]
    grid = images_uri(torch.zeros(rows * cols, 1, 8, 8), nrow=cols)  # the tiling of `rows` rows of `cols` digits
    assert size_of(uri) == size_of(grid)
    assert f"{shown} test images" in body and ("top row" in body) == (rows == 2)
