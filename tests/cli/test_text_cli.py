"""Every use of a text run through the real CLI, on tiny runs trained by `vaekit train` (a .txt file, a CSV column,
the text-quickstart preset): sample, reconstruct, encode, interpolate (test indices or typed sentences), traverse,
score, evaluate and report write text; the decoding choices (--temperature, --decode greedy|beam, --beam-width) agree
with the model's decodings and are refused by a run on other data; a language model refuses what needs a z."""

import json

import pandas as pd
import pytest
import torch

from tiny_configs import TINY_VAE_RUN
from vaekit.cli.main import main
from vaekit.nn.tokens import Decoding
from vaekit.run import load_run

TINY_TEXT = [
    "model.network.type=recurrent",
    "model.network.cell=gru",
    "model.network.hidden=[16]",
    "model.network.embedding_dim=8",
    "data.test_fraction=0.25",
    "train.epochs=1",
    "train.batch_size=16",
    "train.progress=false",
    "train.num_sample_images=4",
]
THINGS = ["mat", "hat", "rug", "park", "lake"]


def sentences(n=60):
    return [f"the cat sat on the {THINGS[i % 5]}" if i % 2 else f"a dog ran to the {THINGS[i % 3]}" for i in range(n)]


def cli(*args) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A VAE trained on a .txt file, one on a CSV column, a language model, and a tiny image run."""
    root = tmp_path_factory.mktemp("text_cli")
    (root / "s.txt").write_text("\n".join(sentences()) + "\n")
    pd.DataFrame({"id": range(60), "sentence": sentences()}).to_csv(root / "s.csv", index=False)
    made = {
        "txt": [f"data.source={root / 's.txt'}", "model.latent_dim=3"],
        "csv": [f"data.source={root / 's.csv'}", "data.column=sentence", "model.latent_dim=3"],
        "lm": [f"data.source={root / 's.txt'}", "model.type=lm"],
    }
    for name, overrides in made.items():
        assert cli("train", *TINY_TEXT, *overrides, "--out", root / name) == 0
    assert cli("train", "data.source=digits", *TINY_VAE_RUN, "--out", root / "image") == 0
    return root


def lines(path):
    return path.read_text().splitlines()


@pytest.mark.parametrize("name", ["txt", "csv"])
def test_every_use_of_a_text_run_writes_text(runs, tmp_path, name, capsys):
    run = runs / name
    vocabulary = set(load_run(run).spec.vocabulary.tokens)
    assert cli("sample", run, "-n", 5, "--out", tmp_path / "s.txt") == 0
    assert len(lines(tmp_path / "s.txt")) == 5
    assert all(set(t.split()) <= vocabulary for t in lines(tmp_path / "s.txt"))
    assert cli("reconstruct", run, "-n", 3, "--out", tmp_path / "r.txt") == 0
    text = lines(tmp_path / "r.txt")
    assert text[0] in {f"input: {s}" for s in sentences()} and text[1].startswith("reconstruction: ")
    assert cli("encode", run, "--out", tmp_path / "e.csv") == 0
    assert pd.read_csv(tmp_path / "e.csv").shape == (15, 3)  # the 15 test sentences, 3 latent dimensions
    assert cli("interpolate", run, "--pair", 0, 1, "--steps", 4, "--out", tmp_path / "i.csv") == 0
    assert pd.read_csv(tmp_path / "i.csv")["step"].tolist() == [0, 1, 2, 3]
    assert cli("traverse", run, "--steps", 3, "--out", tmp_path / "t.csv") == 0
    assert len(pd.read_csv(tmp_path / "t.csv")) == 9  # 3 dimensions x 3 values, one sentence each
    assert cli("score", run, "--num-samples", 8, "--out", tmp_path / "sc.csv") == 0
    scores = pd.read_csv(tmp_path / "sc.csv")
    assert list(scores.columns) == ["index", "log_likelihood", "elbo", "text"] and len(scores) == 15
    assert set(scores["text"]) <= set(sentences())
    assert (scores["log_likelihood"] >= scores["elbo"] - 1e-4).all()  # IW >= ELBO at the same draws (Jensen)
    assert cli("evaluate", run, "--iw-samples", 8, "--out", tmp_path / "ev.json") == 0
    report = json.loads((tmp_path / "ev.json").read_text())
    assert {"nll", "perplexity", "kl", "mi", "active_units", "tokens"} <= set(report) and report["nll"] > 0
    assert cli("report", run, "--out", tmp_path / "rep.html") == 0
    assert "Sampled sentences" in (tmp_path / "rep.html").read_text()


def test_a_homotopy_between_two_typed_sentences_starts_and_ends_at_their_decodings(runs, tmp_path):
    run = runs / "txt"
    a, b = "the cat sat on the mat", "a dog ran to the zebra"  # zebra: outside the vocabulary, read as <unk>
    assert cli("interpolate", run, "--sentences", a, b, "--steps", 5, "--out", tmp_path / "i.txt") == 0
    path = lines(tmp_path / "i.txt")
    assert cli("interpolate", run, "--sentences", a, b, "--steps", 2, "--out", tmp_path / "ends.txt") == 0
    r = load_run(run)
    from vaekit.views.sequences import decode_texts, encode_texts

    ends = encode_texts(r.spec, [a, b])  # (2, T)
    assert decode_texts(r.spec, ends)[1] == "a dog ran to the <unk>"
    assert len(path) == 5 and [path[0], path[-1]] == decode_texts(r.spec, r.reconstruct(ends))
    assert lines(tmp_path / "ends.txt") == [path[0], path[-1]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sentences", "", "the cat"], "the first of --sentences has no token"),
        (["--sentences", "the " * 40, "the cat"], "this run reads at most"),
        (["--pair", 0, 99], "--pair index 99 is out of range"),
        (["--pair", 0, 1, "--beam-width", 3], "--beam-width applies to --decode beam"),
    ],
)
def test_bad_interpolation_ends_are_named(runs, tmp_path, capsys, args, message):
    assert cli("interpolate", runs / "txt", *args, "--out", tmp_path / "i.txt") != 0
    assert message in capsys.readouterr().err and not (tmp_path / "i.txt").exists()


def test_the_decoding_choices_agree_with_the_models_decodings(runs, tmp_path):
    run = runs / "txt"
    assert cli("sample", run, "-n", 6, "--seed", 3, "--out", tmp_path / "default.txt") == 0
    assert cli("sample", run, "-n", 6, "--seed", 3, "--temperature", 1, "--out", tmp_path / "t1.txt") == 0
    assert lines(tmp_path / "t1.txt") == lines(tmp_path / "default.txt")  # temperature 1: the model's own draws
    assert cli("sample", run, "-n", 6, "--seed", 3, "--temperature", 0, "--out", tmp_path / "t0.txt") == 0
    r = load_run(run)
    beam1 = r.sample(6, torch.Generator().manual_seed(3), decoding=Decoding("beam", 1))  # one beam: greedy
    from vaekit.views.sequences import decode_texts

    assert lines(tmp_path / "t0.txt") == decode_texts(r.spec, beam1)
    assert cli("reconstruct", run, "-n", 5, "--out", tmp_path / "greedy.txt") == 0
    assert cli("reconstruct", run, "-n", 5, "--decode", "beam", "--beam-width", 1, "--out", tmp_path / "b1.txt") == 0
    assert lines(tmp_path / "b1.txt") == lines(tmp_path / "greedy.txt")
    assert cli("reconstruct", run, "-n", 5, "--decode", "beam", "--beam-width", 4, "--out", tmp_path / "b4.txt") == 0
    assert len(lines(tmp_path / "b4.txt")) == 15


@pytest.mark.parametrize(
    "args",
    [
        ["sample", "--temperature", "0.5", "--out", "s.png"],
        ["reconstruct", "--decode", "beam", "--out", "r.png"],
        ["interpolate", "--pair", "0", "1", "--decode", "greedy", "--out", "i.png"],
        ["interpolate", "--sentences", "a", "b", "--out", "i.png"],
    ],
)
def test_decoding_choices_and_typed_sentences_are_refused_by_an_image_run(runs, tmp_path, capsys, args):
    command, *rest = args
    assert cli(command, runs / "image", *rest[:-1], tmp_path / rest[-1]) != 0
    assert "text" in capsys.readouterr().err and not (tmp_path / rest[-1]).exists()


def test_a_language_model_samples_and_evaluates_exactly_and_refuses_what_needs_a_z(runs, tmp_path, capsys):
    run = runs / "lm"
    assert cli("sample", run, "-n", 4, "--temperature", 0.7, "--out", tmp_path / "s.txt") == 0
    assert len(lines(tmp_path / "s.txt")) == 4
    assert cli("evaluate", run, "--iw-samples", 2, "--out", tmp_path / "ev.json") == 0
    assert json.loads((tmp_path / "ev.json").read_text())["nll_exact"] is True
    capsys.readouterr()
    assert cli("reconstruct", run, "--out", tmp_path / "r.txt") != 0
    assert "no z to reconstruct through" in capsys.readouterr().err
    assert cli("interpolate", run, "--sentences", "a", "b", "--out", tmp_path / "i.txt") != 0
    assert "interpolation" in capsys.readouterr().err


def test_the_text_quickstart_preset_trains_on_a_text_file(runs, tmp_path):
    small = ["model.network.hidden=[16]", "model.network.embedding_dim=8", "train.epochs=1", "train.progress=false"]
    args = ["train", "--preset", "text-quickstart", "--data", runs / "s.txt", *small, "--out", tmp_path / "q"]
    assert cli(*args) == 0
    r = load_run(tmp_path / "q")
    assert r.config.model.posterior_bn_gamma > 0 and r.config.data.train_limit == 2000
    assert len(lines(tmp_path / "q" / "samples.txt")) == r.config.train.num_sample_images
