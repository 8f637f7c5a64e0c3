"""The built-in sequence source `moses`: the MOSES benchmark's split of ZINC Clean Leads molecules as SMILES.

Molecular Sets (MOSES), Polykovskiy et al. 2020, Front. Pharmacol. 11:565644 (MIT licence, Insilico Medicine). The
three files of the benchmark, as the `molsets` package ships them (moses/dataset/data/ of molecularsets/moses), each a
gzip-compressed CSV with one column `SMILES`: train (1 584 663 molecules), test (176 074) and test_scaffolds (the test
molecules of scaffolds absent from train, the reference of the /TestSF metrics). They are downloaded once with the
sha256 sums published in ../shared/data/SOURCES.md (vaekit.data.download: checked before anything is written) and kept
in <data dir>/moses. Training reads train and test; test_scaffolds is read by `vaekit evaluate --molecules`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vaekit.data.download import RemoteFile, ensure_files
from vaekit.data.tables import column_texts  # the one reader of a text column

MOSES_URLS = ("https://raw.githubusercontent.com/molecularsets/moses/master/moses/dataset/data/",)
MOSES_FILES = {  # ../shared/data/SOURCES.md
    "train.csv.gz": "786f0313aa6b9ba5514df685f885742a70ea8d86f1a4fa48115f7f80a634265c",
    "test.csv.gz": "f896fbf3764f88d94670b9959e5872c600c12152a18233823e820761b7a791b2",
    "test_scaffolds.csv.gz": "adffb2192c1bfe31ab0e13154d4af19a37dc18bdbf3cd7b4491e04405128adde",
}
SMILES_COLUMN = "SMILES"
SPLITS = {"train": "train.csv.gz", "test": "test.csv.gz"}  # what a model trains and is tested on
SCAFFOLDS = "test_scaffolds.csv.gz"


def remote_files(sums: dict[str, str] = MOSES_FILES) -> tuple[RemoteFile, ...]:
    return tuple(RemoteFile(name, f"sha256:{digest}") for name, digest in sums.items())


def ensure_moses(
    folder: Path, urls: Sequence[str], download: bool, sums: dict[str, str] = MOSES_FILES
) -> dict[str, Path]:
    """{file name: path} of the three MOSES files in `folder`, the missing ones downloaded (checked) from `urls`."""
    return ensure_files("moses", folder, remote_files(sums), urls, download)


def read_smiles(path: Path) -> list[str]:
    """The SMILES of one MOSES file (its `SMILES` column)."""

    return column_texts(path, SMILES_COLUMN)
