"""`vaekit evaluate RUN --molecules N` end to end on tiny SMILES runs trained by `vaekit train` on a tiny moses-like
folder: the MOSES metrics printed and written as JSON, and refused for a run that is not SMILES and when the
reference files cannot be found."""

import gzip
import json

import pytest

from vaekit.cli.main import main

SMILES = ["CCO", "CCN", "CCC", "c1ccccc1", "CC(=O)O", "CCOC", "c1ccncc1", "OCCO", "CNC", "CC(C)C"]
TEST = ["CCCO", "c1ccc(O)cc1", "CCCN", "CC(N)=O"]
SCAFFOLDS = ["c1ccc2ccccc2c1", "C1CCNCC1"]
TINY = [
    "model.network.type=recurrent",
    "model.network.cell=gru",
    "model.network.hidden=[32]",
    "model.network.embedding_dim=16",
    "train.batch_size=16",
    "train.progress=false",
    "train.num_sample_images=4",
]


def cli(*args) -> int:
    return main([str(a) for a in args])


def write_gz(path, rows):
    path.write_bytes(gzip.compress(("SMILES\n" + "".join(f"{s}\n" for s in rows)).encode()))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A language model on a tiny moses folder (40 molecules), and a word-tokenized text run."""
    root = tmp_path_factory.mktemp("molecules_cli")
    (root / "data" / "moses").mkdir(parents=True)
    write_gz(root / "data" / "moses" / "train.csv.gz", SMILES * 4)
    write_gz(root / "data" / "moses" / "test.csv.gz", TEST)
    write_gz(root / "data" / "moses" / "test_scaffolds.csv.gz", SCAFFOLDS)
    moses = [
        "data.source=moses",
        f"data.data_dir={root / 'data'}",
        "model.type=lm",
        "train.epochs=30",
        "train.batch_size=4",
    ]
    assert cli("train", *TINY, *moses, "--out", root / "lm") == 0
    (root / "s.txt").write_text("\n".join(f"the cat sat on mat {i % 5}" for i in range(40)) + "\n")
    words = [f"data.source={root / 's.txt'}", "model.type=lm", "train.epochs=1", "data.test_fraction=0.25"]
    assert cli("train", *TINY, *words, "--out", root / "words") == 0
    return root


def test_molecules_are_drawn_and_measured_by_the_moses_metrics(runs, tmp_path, capsys):
    capsys.readouterr()
    assert cli("evaluate", runs / "lm", "--molecules", 200, "--no-fcd", "--out", tmp_path / "m.json") == 0
    printed = capsys.readouterr().out
    report = json.loads((tmp_path / "m.json").read_text())
    metrics = report["metrics"]
    assert report["num_molecules"] == 200 and report["train"].endswith("train.csv.gz")
    assert metrics["valid"] > 0.5  # 300 steps on 10 small molecules: most samples are molecules
    assert {"unique@1000", "SNN/Test", "Frag/TestSF", "IntDiv", "Filters", "Novelty"} <= set(metrics)
    assert not any(k.startswith("FCD") for k in metrics)
    assert all(v is None or 0 <= v for v in metrics.values())  # an undefined metric (no scaffold) written as null
    assert 0 <= metrics["Novelty"] < 1 and 0 < metrics["unique@1000"] <= 1  # copies of the 10 training molecules
    assert "valid" in printed and "Novelty" in printed
    assert cli("evaluate", runs / "lm", "--molecules", 200, "--no-fcd", "--out", tmp_path / "m2.json") == 0
    assert json.loads((tmp_path / "m2.json").read_text())["metrics"] == metrics  # the same seed, the same molecules


def test_molecules_are_refused_for_a_run_that_is_not_smiles(runs, tmp_path, capsys):
    capsys.readouterr()
    assert cli("evaluate", runs / "words", "--molecules", 10, "--out", tmp_path / "m.json") != 0
    assert "word tokenizer" in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()


def test_molecules_are_refused_without_the_reference_files(runs, tmp_path, capsys):
    capsys.readouterr()
    assert cli("evaluate", runs / "lm", "--molecules", 10, "--data-dir", tmp_path, "--out", tmp_path / "m.json") != 0
    err = capsys.readouterr().err
    assert "test.csv.gz" in err and "test_scaffolds.csv.gz" in err
    assert not (tmp_path / "m.json").exists()
