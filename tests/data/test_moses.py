"""The built-in source `moses`: its three SMILES files downloaded with their checksums (a mismatch refused, nothing
written), read from a folder, the smiles tokenizer by default, and the shared copy's published sums."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
from pathlib import Path

import pytest

from vaekit.data import sequences
from vaekit.data.moses import MOSES_FILES
from vaekit.data.sequences import SequenceOptions, decode_texts, load_sequences
from vaekit.errors import DataError

from .mirror import Mirror

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "moses"
TRAIN = ["CCO", "c1ccccc1", "CC(=O)Nc1ccc(O)cc1", "C[C@@H](N)C(=O)O", "ClCCBr", "O=C1CCCN1"] * 4
TEST = ["CCN", "c1ccncc1", "CC(C)O"]
SCAFFOLDS = ["c1ccc2ccccc2c1"]


def write_moses(folder: Path, train=TRAIN, test=TEST, scaffolds=SCAFFOLDS) -> dict[str, str]:
    """A tiny moses folder (three gzip CSVs with a SMILES column); their sha256 sums."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train.csv.gz", train), ("test.csv.gz", test), ("test_scaffolds.csv.gz", scaffolds)):
        (folder / name).write_bytes(gzip.compress(("SMILES\n" + "".join(f"{s}\n" for s in rows)).encode(), mtime=0))
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in MOSES_FILES}


def test_a_moses_folder_is_read_with_the_smiles_tokenizer(tmp_path: Path) -> None:
    write_moses(tmp_path / "moses")
    data = load_sequences("moses", SequenceOptions(data_dir=tmp_path, download=False))
    assert [len(data.train), len(data.test)] == [len(TRAIN), len(TEST)]
    assert data.spec.vocabulary.tokenizer == "smiles" and not data.spec.vocabulary.lowercase
    assert "Cl" in data.spec.vocabulary.tokens and "[C@@H]" in data.spec.vocabulary.tokens  # atoms, not characters
    assert decode_texts(data.spec, data.train) == TRAIN  # the source's own order, read back exactly
    limited = load_sequences("moses", SequenceOptions(data_dir=tmp_path, download=False, train_limit=5, test_limit=2))
    assert [len(limited.train), len(limited.test)] == [5, 2]
    assert set(decode_texts(limited.spec, limited.test)) <= set(TEST)  # a subset, the same for every run of the seed
    again = load_sequences("moses", SequenceOptions(data_dir=tmp_path, download=False, train_limit=5, test_limit=2))
    assert decode_texts(again.spec, again.test) == decode_texts(limited.spec, limited.test)


def test_moses_is_downloaded_with_its_checksums(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sums = write_moses(mirror.root / "moses")
    monkeypatch.setitem(
        sequences.TEXT_SOURCES, "moses", dataclasses.replace(sequences.TEXT_SOURCES["moses"], sums=sums)
    )
    monkeypatch.setenv("VAEKIT_MIRROR", mirror.url)
    data = load_sequences("moses", SequenceOptions(data_dir=tmp_path / "d"))
    folder = tmp_path / "d" / "moses"
    assert sorted(p.name for p in folder.iterdir()) == sorted(MOSES_FILES)
    assert len(data.train) == len(TRAIN)
    load_sequences("moses", SequenceOptions(data_dir=tmp_path / "d"))
    assert len(mirror.requests) == 3  # fetched once


def test_a_moses_file_with_the_wrong_checksum_is_refused_and_nothing_written(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_moses(mirror.root / "moses")  # the real sums (MOSES_FILES) do not match these tiny files
    monkeypatch.setenv("VAEKIT_MIRROR", mirror.url)
    with pytest.raises(DataError, match="sha256 is wrong"):
        load_sequences("moses", SequenceOptions(data_dir=tmp_path / "d"))
    assert not list((tmp_path / "d").rglob("*.gz")) and not list((tmp_path / "d").rglob("*.part"))
    with pytest.raises(DataError, match="downloads are off"):
        load_sequences("moses", SequenceOptions(data_dir=tmp_path / "e", download=False))


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/moses is absent")
def test_the_shared_moses_files_match_the_published_sums() -> None:
    assert {n: hashlib.sha256((SHARED / n).read_bytes()).hexdigest() for n in MOSES_FILES} == MOSES_FILES
