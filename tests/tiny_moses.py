"""A tiny moses-like data folder (the three gzip-compressed SMILES files of the built-in `moses` source) for tests
that train and evaluate SMILES runs in seconds."""

import gzip
from pathlib import Path

SMILES = ["CCO", "CCN", "CCC", "c1ccccc1", "CC(=O)O", "CCOC", "c1ccncc1", "OCCO", "CNC", "CC(C)C"]
TEST = ["CCCO", "c1ccc(O)cc1", "CCCN", "CC(N)=O"]
SCAFFOLDS = ["c1ccc2ccccc2c1", "C1CCNCC1"]


def write_gz(path: Path, rows: list[str]) -> None:
    """A CSV of one `SMILES` column, gzip-compressed, as MOSES ships its splits."""
    path.write_bytes(gzip.compress(("SMILES\n" + "".join(f"{s}\n" for s in rows)).encode()))


def tiny_moses(root: Path) -> Path:
    """root/data/moses with 40 training molecules (SMILES four times), TEST and SCAFFOLDS; returns root/data, the
    data dir to give as data.data_dir."""
    folder = root / "data" / "moses"
    folder.mkdir(parents=True)
    write_gz(folder / "train.csv.gz", SMILES * 4)
    write_gz(folder / "test.csv.gz", TEST)
    write_gz(folder / "test_scaffolds.csv.gz", SCAFFOLDS)
    return root / "data"
