"""The Molecules section of a SMILES run's report: sampled molecules drawn with RDKit (invalid strings listed with
their count) and the MOSES metrics of the newest `vaekit evaluate RUN --molecules N` report, or the command that
writes one; absent from a text run on words."""

from __future__ import annotations

import base64
import io
import re

import pytest

from vaekit.cli.main import main
from vaekit.report import ReportOptions, build_report
from vaekit.run import load_run

FAST = ReportOptions(quick_examples=8, quick_iw_samples=2, text_rows=4, homotopies=1, homotopy_steps=3, kl_examples=8)


@pytest.fixture(scope="module")
def run_dir(runs):
    return runs("smiles")  # trained on tests/tiny_moses.py's 40 molecules (report/tiny_runs.py)


def molecules_body(run_dir) -> str:
    report = build_report(load_run(run_dir), FAST)
    return {s.title: s.body for s in report.sections}["Molecules"]


def test_a_smiles_run_draws_its_molecules_and_points_to_the_metrics_command(run_dir):
    body = molecules_body(run_dir)
    counts = re.search(r"(\d+) molecules drawn .*?: (\d+) valid, (\d+) that RDKit cannot parse", body, re.S)
    total, valid, invalid = map(int, counts.groups())
    assert total == FAST.num_molecules and valid + invalid == total and valid > 0
    assert len(re.findall(r"<li><code>", body)) == invalid  # every invalid string listed
    uri = re.search(r'src="data:image/png;base64,([^"]+)"', body).group(1)
    from PIL import Image

    picture = Image.open(io.BytesIO(base64.b64decode(uri)))
    assert picture.size[0] == 5 * 220 and picture.size[1] == 170 * -(-valid // 5)  # one cell per valid molecule
    assert f"vaekit evaluate {run_dir} --molecules" in body and "MOSES metrics</h3>" not in body


def test_the_newest_molecules_report_is_shown(run_dir, tmp_path):
    args = ["evaluate", str(run_dir), "--molecules", "50", "--no-fcd"]
    assert main([*args, "--out", str(run_dir / "molecules.json")]) == 0
    body = molecules_body(run_dir)
    assert "MOSES metrics</h3>" in body and "From molecules.json" in body and "50 molecules" in body
    for name in ("valid", "unique@1000", "SNN/Test", "IntDiv", "Novelty"):
        assert f"<th>{name}</th>" in body
    assert "--molecules 30000" not in body
    (run_dir / "molecules.json").unlink()


def test_a_word_run_has_no_molecules_section(runs):
    report = build_report(load_run(runs("text-lm")), FAST)
    assert "Molecules" not in [s.title for s in report.sections]
