"""vaekit's MOSES metrics agree with molsets' get_all_metrics on a few hundred molecules of the MOSES split, where a
molsets environment (see benchmarks/moses_metrics_check.py) and the shared data are there; skipped elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MOSES_PYTHON = Path(os.environ.get("VAEKIT_MOSES_PYTHON", ROOT / ".venv-moses-ref" / "bin" / "python"))
DATA = ROOT.parent / "shared" / "data" / "moses"


@pytest.mark.slow
@pytest.mark.skipif(not MOSES_PYTHON.exists(), reason="no molsets environment (VAEKIT_MOSES_PYTHON)")
@pytest.mark.skipif(not (DATA / "test.csv.gz").exists(), reason="no MOSES split in ../shared/data/moses")
def test_every_metric_agrees_with_molsets_on_a_sample(tmp_path):
    out = tmp_path / "check.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "moses_metrics_check.py"), "--quick", "--out", str(out)]
    subprocess.run(command + ["--moses-python", str(MOSES_PYTHON)], check=True, capture_output=True)
    result = json.loads(out.read_text())
    theirs, ours = result["molsets"], result["vaekit"]
    assert set(theirs) == set(ours)
    for name, value in theirs.items():
        if name != "seconds":
            # molsets computes Tanimoto similarities and ChemNet activations in float32
            assert ours[name] == pytest.approx(value, abs=1e-5), name
