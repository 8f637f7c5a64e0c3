"""Tiny trained runs, made once per test session."""

from __future__ import annotations

import pytest

from report.tiny_runs import tiny_run


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """kind -> the run directory of a tiny trained run of that model type (trained on first use)."""
    root = tmp_path_factory.getbasetemp() / "tiny-runs"
    root.mkdir(exist_ok=True)
    return lambda kind: tiny_run(root, kind)
