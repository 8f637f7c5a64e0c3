"""Tokenizers: text -> ids -> text round trips for char, word, SMILES and a Hugging Face tokenizer; the vocabulary's
cap by training frequency; decoding stops at <eos>."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vaekit.data.tokenizers import SMILES_PATTERN, Splitter, Tokenizer, build_vocabulary, read_tokenizer_file
from vaekit.errors import DataError
from vaekit.spec import SPECIALS, DataSpec, Vocabulary

LINES = [
    "a stitch taken in knitting",
    "the naval battle in which Antony and Cleopatra were defeated (31 BC), by Octavian's fleet",
    "put on or wear a hat; well-known",
]


def _tokenizer(name: str, lines: list[str], **kw) -> Tokenizer:
    splitter = Splitter(name, kw.get("lowercase", False), kw.get("tokenizer_json"))
    vocabulary = build_vocabulary([splitter.split(t) for t in lines], name, **kw)
    return Tokenizer(vocabulary)


@pytest.mark.parametrize("name", ["char", "word"])
def test_text_round_trips_when_every_token_is_known(name: str) -> None:
    tokenizer = _tokenizer(name, LINES)
    for text in LINES:
        ids = tokenizer.encode(text)
        assert Vocabulary.unk_id not in ids and min(ids) >= len(SPECIALS)
        assert tokenizer.decode(ids) == text
        assert tokenizer.encode(tokenizer.decode(ids)) == ids


def test_word_tokens_keep_inner_hyphens_and_apostrophes_and_split_punctuation() -> None:
    assert Splitter("word").split("Octavian's well-known fleet (31 BC); done.") == [
        "Octavian's",
        "well-known",
        "fleet",
        "(",
        "31",
        "BC",
        ")",
        ";",
        "done",
        ".",
    ]


def test_unknown_words_are_unk_and_decoded_as_such() -> None:
    tokenizer = _tokenizer("word", ["a hat"])
    ids = tokenizer.encode("a red hat")
    assert ids == [tokenizer.ids["a"], Vocabulary.unk_id, tokenizer.ids["hat"]]
    assert tokenizer.decode(ids) == "a <unk> hat"


@pytest.mark.parametrize("name", ["word", "char", "smiles"])
def test_the_text_unk_reads_back_as_the_unknown_token(name) -> None:
    """What decode writes for an unknown token encodes back to it (a decoded sentence reads back as its own ids),
    and a corpus marking rare words <unk> (the Penn Treebank) builds no vocabulary entry from its pieces."""
    tokenizer = _tokenizer(name, ["a hat <unk> on", "CCO"])
    assert "<unk>" not in tokenizer.ids and "unk" not in tokenizer.ids and "u" not in tokenizer.ids
    ids = tokenizer.encode("a hat<unk>on")
    assert ids.count(Vocabulary.unk_id) == 1 and tokenizer.encode(tokenizer.decode(ids)) == ids


def test_lowercase_applies_before_the_vocabulary() -> None:
    tokenizer = _tokenizer("word", ["The Hat"], lowercase=True)
    assert tokenizer.vocabulary.tokens[4:] == ("hat", "the")
    assert tokenizer.decode(tokenizer.encode("THE HAT")) == "the hat"


def test_the_vocabulary_is_capped_by_training_frequency() -> None:
    train = [["b", "b", "b", "a", "a", "c"], ["c", "d"]]  # b 3, a 2, c 2, d 1
    vocabulary = build_vocabulary(train, "word", vocab_size=7)
    assert vocabulary.tokens == (*SPECIALS, "b", "a", "c")  # ties in string order; d dropped
    assert build_vocabulary(train, "word").tokens == (*SPECIALS, "b", "a", "c", "d")


def test_decode_stops_at_eos_and_skips_pad_and_bos() -> None:
    tokenizer = _tokenizer("char", ["ab"])
    a, b = tokenizer.encode("ab")
    assert tokenizer.decode([Vocabulary.bos_id, a, Vocabulary.pad_id, b, Vocabulary.eos_id, a, a]) == "ab"


def test_a_token_spelled_like_a_special_is_unknown_text_not_a_special_id() -> None:
    tokenizer = Tokenizer(Vocabulary((*SPECIALS, "x"), "word"))
    assert tokenizer.lookup(["<pad>", "<eos>", "x"]) == [Vocabulary.unk_id, Vocabulary.unk_id, 4]


SMILES = {
    "c1ccccc1": ["c", "1", "c", "c", "c", "c", "c", "1"],
    "C[C@@H](Cl)Br": ["C", "[C@@H]", "(", "Cl", ")", "Br"],
    "[nH]1cc%12ccc1%12": ["[nH]", "1", "c", "c", "%12", "c", "c", "c", "1", "%12"],
    "O=C(O)c1ccccc1OC(C)=O": ["O", "=", "C", "(", "O", ")", "c", "1", "c", "c", "c", "c", "c", "1", "O", "C", "(", "C"]
    + [")", "=", "O"],
    "[Na+].[Cl-]": ["[Na+]", ".", "[Cl-]"],
}


@pytest.mark.parametrize("smiles", list(SMILES))
def test_smiles_atoms_are_tokens_and_round_trip(smiles: str) -> None:
    assert SMILES_PATTERN.findall(smiles) == SMILES[smiles]
    tokenizer = _tokenizer("smiles", list(SMILES))
    ids = tokenizer.encode(smiles)
    assert len(ids) == len(SMILES[smiles]) and Vocabulary.unk_id not in ids
    assert tokenizer.decode(ids) == smiles


def _hf_tokenizer_file(tmp_path: Path, lines: list[str]) -> Path:
    """A byte-level BPE trained here on `lines` (the tokenizers library), saved as tokenizer.json."""
    from tokenizers import Tokenizer as HfTokenizer
    from tokenizers import decoders, models, pre_tokenizers, trainers

    hf = HfTokenizer(models.BPE(unk_token="[UNK]"))
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]", "<pad>"], show_progress=False)
    hf.train_from_iterator(lines, trainer)
    path = tmp_path / "tokenizer.json"
    hf.save(str(path))
    return path


def test_a_hugging_face_tokenizer_round_trips_and_travels_in_the_spec(tmp_path: Path) -> None:
    path = _hf_tokenizer_file(tmp_path, LINES * 3)
    text = read_tokenizer_file(path)
    tokenizer = _tokenizer("huggingface", LINES, tokenizer_json=text)
    for line in LINES:
        ids = tokenizer.encode(line)
        assert Vocabulary.unk_id not in ids
        assert tokenizer.decode(ids) == line
    # the spec holds the tokenizer's JSON: a run read back decodes without the file
    spec = DataSpec.sequence(tokenizer.vocabulary, 40)
    path.unlink()
    again = Tokenizer(DataSpec.from_json(spec.to_json()).vocabulary)
    assert again.encode(LINES[1]) == tokenizer.encode(LINES[1])
    assert again.decode(tokenizer.encode(LINES[1])) == LINES[1]


def test_a_file_that_is_not_a_tokenizer_is_a_data_error(tmp_path: Path) -> None:
    bad = tmp_path / "tokenizer.json"
    bad.write_text(json.dumps({"model": "nothing"}))
    with pytest.raises(DataError, match="not a Hugging Face tokenizer file"):
        read_tokenizer_file(bad)
    with pytest.raises(DataError, match="cannot be read"):
        read_tokenizer_file(tmp_path / "absent.json")


MOSES_TRAIN = Path(__file__).resolve().parents[3] / "shared" / "data" / "moses" / "train.csv.gz"


@pytest.mark.skipif(not MOSES_TRAIN.is_file(), reason=f"the MOSES training split is not at {MOSES_TRAIN}")
def test_smiles_tokens_round_trip_a_sample_of_the_moses_training_split() -> None:
    """Every one of 20000 training SMILES (a seeded random sample of the split's first 200000) splits into tokens
    that spell it exactly, each token a whole atom, bond, ring bond or branch, and encodes and decodes back."""
    import gzip
    import itertools

    import numpy as np

    with gzip.open(MOSES_TRAIN, "rt") as f:
        assert next(f).strip() == "SMILES"
        lines = [line.strip() for line in itertools.islice(f, 200_000)]
    sample = [lines[i] for i in np.random.default_rng(0).choice(len(lines), 20000, replace=False)]
    tokenizer = _tokenizer("smiles", sample)
    for smiles in sample:
        pieces = SMILES_PATTERN.findall(smiles)
        assert "".join(pieces) == smiles
        assert all(len(p) == 1 or p.startswith(("[", "%")) or p in ("Cl", "Br") for p in pieces), pieces
        assert tokenizer.decode(tokenizer.encode(smiles)) == smiles
