"""The reference sets' statistics kept on disk (vaekit.workflow.molecules.cached_reference_statistics): read back
exactly, keyed by the file's bytes, computed again when the kept file is unreadable, and giving the same metrics."""

import threading
from pathlib import Path

import numpy as np
import pytest

from tiny_moses import SCAFFOLDS, TEST, write_gz
from vaekit.evaluate.molecules import (
    ChemNetStatistics,
    ReferenceStatistics,
    moses_metrics,
    reference_statistics,
    statistics_arrays,
    statistics_from_arrays,
)
from vaekit.lock import RunLock
from vaekit.workflow.molecules import STATISTICS_FOLDER, cached_reference_statistics

GENERATED = ["CCCO", "CCO", "c1ccccc1O", "not a molecule", "CC(N)=O", "c1ccc2ccccc2c1"]


def assert_same(a: ReferenceStatistics, b: ReferenceStatistics) -> None:
    assert a.fingerprints.dtype == b.fingerprints.dtype == np.uint8
    np.testing.assert_array_equal(a.fingerprints, b.fingerprints)
    assert a.fragments == b.fragments and a.scaffolds == b.scaffolds
    assert a.properties.keys() == b.properties.keys()
    for name in a.properties:
        np.testing.assert_array_equal(a.properties[name], b.properties[name])
    assert (a.chemnet is None) == (b.chemnet is None)
    if a.chemnet is not None:
        np.testing.assert_array_equal(a.chemnet.mu, b.chemnet.mu)
        np.testing.assert_array_equal(a.chemnet.sigma, b.chemnet.sigma)


def test_statistics_round_trip_through_arrays_with_chemnet() -> None:
    stats = reference_statistics(TEST + SCAFFOLDS, fcd=False)
    rng = np.random.default_rng(0)
    with_chemnet = ReferenceStatistics(
        stats.fingerprints, stats.fragments, stats.scaffolds, ChemNetStatistics(rng.normal(size=4), np.eye(4)),
        stats.properties,
    )  # fmt: skip
    assert_same(statistics_from_arrays(statistics_arrays(with_chemnet)), with_chemnet)
    assert_same(statistics_from_arrays(statistics_arrays(stats)), stats)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "vaekit" / STATISTICS_FOLDER


def test_statistics_are_kept_and_read_back(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "test.csv.gz"
    write_gz(path, TEST)
    first = cached_reference_statistics(path, fcd=False)
    kept = sorted(cache.glob("*.npz"))
    assert len(kept) == 1 and kept[0].suffix == ".npz"
    before = kept[0].stat().st_mtime_ns
    again = cached_reference_statistics(path, fcd=False)
    assert kept[0].stat().st_mtime_ns == before  # read, not written again
    assert_same(again, first)
    assert_same(again, reference_statistics(TEST, fcd=False))
    computed = moses_metrics(GENERATED, TEST, None, set(TEST), fcd=False)
    assert moses_metrics(GENERATED, again, None, set(TEST), fcd=False) == computed


def test_other_bytes_are_other_statistics(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "test.csv.gz"
    write_gz(path, TEST)
    cached_reference_statistics(path, fcd=False)
    write_gz(path, SCAFFOLDS)  # the same name, other molecules
    stats = cached_reference_statistics(path, fcd=False)
    assert len(list(cache.glob("*.npz"))) == 2
    assert_same(stats, reference_statistics(SCAFFOLDS, fcd=False))


def test_an_unreadable_cache_is_computed_again(tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "test.csv.gz"
    write_gz(path, TEST)
    cached_reference_statistics(path, fcd=False)
    (kept,) = cache.glob("*.npz")
    kept.write_bytes(kept.read_bytes()[:100])  # cut short
    stats = cached_reference_statistics(path, fcd=False)
    assert "unreadable" in capsys.readouterr().err
    assert_same(stats, reference_statistics(TEST, fcd=False))
    with np.load(kept, allow_pickle=False) as arrays:  # written again, whole
        assert_same(statistics_from_arrays(arrays), stats)


def test_a_cache_that_cannot_be_written_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    path = tmp_path / "test.csv.gz"
    write_gz(path, TEST)
    stats = cached_reference_statistics(path, fcd=False)
    assert "could not keep" in capsys.readouterr().err
    assert_same(stats, reference_statistics(TEST, fcd=False))


def test_a_second_evaluation_waits_for_the_first_ones_statistics(tmp_path: Path, cache: Path) -> None:
    """While another holds the cache's lock (computing), a call waits and then reads what was kept, instead of
    computing the same statistics again: here the kept file holds other molecules' statistics, so reading is seen."""
    path = tmp_path / "test.csv.gz"
    write_gz(path, TEST)
    cached_reference_statistics(path, fcd=False)
    (kept,) = cache.glob("*.npz")
    kept.unlink()
    other = reference_statistics(SCAFFOLDS, fcd=False)
    results = []
    with RunLock(cache):  # the first evaluation, computing
        waiting = threading.Thread(target=lambda: results.append(cached_reference_statistics(path, fcd=False)))
        waiting.start()
        waiting.join(timeout=1.0)
        assert waiting.is_alive()  # blocked on the lock
        with open(kept, "wb") as f:
            np.savez(f, **statistics_arrays(other))
    waiting.join(timeout=60)
    assert_same(results[0], other)


def test_a_kept_file_that_needs_unpickling_is_never_unpickled(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A kept file whose arrays hold Python objects (loading them would run pickle, hence code) is refused as
    unreadable and computed again, the object never loaded."""
    path = tmp_path / "test.csv.gz"
    write_gz(path, TEST)
    cached_reference_statistics(path, fcd=False)
    (kept,) = cache.glob("*.npz")
    arrays = dict(np.load(kept, allow_pickle=False))
    arrays["fragments_keys"] = np.array([Exploding()], dtype=object)
    with open(kept, "wb") as f:
        np.savez(f, **arrays)
    stats = cached_reference_statistics(path, fcd=False)
    assert "unreadable" in capsys.readouterr().err
    assert_same(stats, reference_statistics(TEST, fcd=False))


class Exploding:
    """An object whose unpickling fails the test."""

    def __reduce__(self):
        return (pytest.fail, ("a cached statistics file was unpickled",))
