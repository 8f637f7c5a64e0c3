"""Fixtures for the data tests: an environment that never reaches the network, and a local HTTP mirror."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .mirror import Mirror, closed_port_url, serve


@pytest.fixture(autouse=True)
def offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep every data test away from the user's data folder and from the internet."""
    monkeypatch.setenv("VAEKIT_DATA", str(tmp_path / "vaekit-data"))
    monkeypatch.setenv("VAEKIT_MIRROR", closed_port_url())


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    """A local http.server serving tmp_path/mirror."""
    root = tmp_path / "mirror"
    root.mkdir()
    with serve(root) as m:
        yield m
