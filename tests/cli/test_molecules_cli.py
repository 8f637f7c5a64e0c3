"""`vaekit evaluate RUN --molecules N` end to end on tiny SMILES runs trained by `vaekit train` on a tiny moses-like
folder: the MOSES metrics printed and written as JSON, and refused for a run that is not SMILES and when the
reference files cannot be found."""

import json

import pytest

from tiny_moses import tiny_moses
from vaekit.cli.main import main

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


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A language model on a tiny moses folder (40 molecules), and a word-tokenized text run."""
    root = tmp_path_factory.mktemp("molecules_cli")
    data_dir = tiny_moses(root)
    moses = [
        "data.source=moses",
        f"data.data_dir={data_dir}",
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
