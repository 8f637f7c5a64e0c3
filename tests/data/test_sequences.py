"""Sequences as data: reading text files and table columns, truncation, splits, a later file read with the run's
vocabulary, bad input, batches bucketed by length, and the wordnet-glosses build from a local archive."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math
import random
import tarfile
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn

from vaekit.data import sequences
from vaekit.data.download import RemoteFile
from vaekit.data.sequences import (
    BucketBatches,
    SequenceOptions,
    is_sequence_source,
    lengths_of,
    load_sequences,
    padding_share,
    padding_shares,
    read_splits,
    summary_lines,
)
from vaekit.data.tokenizers import tokenizer_for
from vaekit.data.wordnet import GLOSS_FILES, SPLIT_SEED, build_glosses, ensure_glosses
from vaekit.errors import DataError
from vaekit.objectives.base import LossOutput
from vaekit.spec import DataSpec, Vocabulary
from vaekit.train.loop import train_epoch

from .mirror import Mirror

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "wordnet_glosses"


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{ln}\n" for ln in lines), encoding="utf-8")
    return path


def _corpus(n: int = 200, seed: int = 0) -> list[str]:
    """Sentences of 1 to 30 words of a 12-word vocabulary."""
    rng = random.Random(seed)
    words = "the cat dog sat on a mat and ran far away quickly".split()
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(n)]


def test_a_text_file_is_read_one_example_a_line_with_eos_and_padding(tmp_path: Path) -> None:
    lines = ["the cat sat", "", "  a dog  ", "the cat ran away"]
    data = load_sequences(str(_write(tmp_path / "t.txt", lines)), SequenceOptions(test_fraction=0.25))
    assert data.train.dtype == torch.int64 and data.spec.kind == "sequence"
    assert data.stats["train"].empty == 1  # the empty line, dropped and counted
    assert len(data.train) + len(data.test) == 3
    x = torch.cat([data.train, data.test])
    assert data.spec.event_shape == (5,) and x.shape[1] == 5  # "the cat ran away" + <eos>
    tokenizer = tokenizer_for(data.spec.vocabulary)
    train_texts = [tokenizer.decode(row) for row in data.train.tolist()]  # every training word is in the vocabulary
    assert len(train_texts) == 2 and set(train_texts) <= {"a dog", "the cat ran away", "the cat sat"}
    assert sorted(lengths_of(x).tolist()) == [3, 4, 5]
    for row in x:  # each row: tokens, one <eos>, then only <pad>
        n = int(lengths_of(row[None])[0])
        assert row[n - 1] == Vocabulary.eos_id and (row[n:] == Vocabulary.pad_id).all()
        assert (row[: n - 1] != Vocabulary.eos_id).all() and (row[: n - 1] != Vocabulary.pad_id).all()


def test_max_length_truncates_counts_and_counts_eos(tmp_path: Path) -> None:
    lines = ["a b c d e f", "a b", "a b c d"]
    source = str(_write(tmp_path / "t.txt", lines))
    data = load_sequences(source, SequenceOptions(max_length=4, test_fraction=0.3, split_seed=1))
    x = torch.cat([data.train, data.test])
    assert data.spec.event_shape == (4,)
    assert sum(s.truncated for s in data.stats.values()) == 2  # 6 and 4 words do not fit 3 words + <eos>
    assert sorted(lengths_of(x).tolist()) == [3, 4, 4]
    assert (x[lengths_of(x) == 4][:, 3] == Vocabulary.eos_id).all()
    assert any("truncated 2" in line for line in summary_lines(data))


def test_the_vocabulary_comes_from_the_training_split_only(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    _write(folder / "train.txt", ["a a a b b c", "c d"])
    _write(folder / "test.txt", ["zebra zebra zebra zebra a"])
    data = load_sequences(str(folder), SequenceOptions(vocab_size=7))
    assert data.spec.vocabulary.tokens[4:] == ("a", "b", "c")
    assert data.test[0].tolist() == [Vocabulary.unk_id] * 4 + [4, Vocabulary.eos_id, Vocabulary.pad_id]  # T = 7
    assert data.stats["test"].unknown == 4
    assert "own split" in data.split and data.valid is None


def test_a_later_file_is_read_with_the_runs_vocabulary_and_length(tmp_path: Path) -> None:
    run = load_sequences(str(_write(tmp_path / "a.txt", ["the cat sat"] * 10)), SequenceOptions())
    later = _write(tmp_path / "b.txt", ["the dog sat"] * 9 + ["the cat sat on the mat"])
    data = load_sequences(str(later), SequenceOptions(vocab_size=5, max_length=2), spec=run.spec)
    assert data.spec == run.spec and data.train.shape[1] == run.spec.event_shape[0] == 4
    assert not data.new_vocabulary
    unknown = sum(s.unknown for s in data.stats.values())
    assert unknown == 9  # "dog" nine times; the long row is cut to "the cat sat" + <eos> (T = 4), no <unk> kept
    assert any("not in the run's vocabulary" in w for w in data.warnings)
    assert any("truncated" in w for w in data.warnings)


def test_a_table_column_is_read_and_its_missing_cells_dropped(tmp_path: Path) -> None:
    molecules = ["CCO", None, "c1ccccc1", "C[C@@H](Cl)Br"] * 3  # each twice in train at least: no <unk>
    pd.DataFrame({"id": range(12), "smiles": molecules}).to_csv(tmp_path / "m.csv", index=False)
    options = SequenceOptions(tokenizer="smiles", column="smiles", test_fraction=0.1)
    data = load_sequences(str(tmp_path / "m.csv"), options)
    tokenizer = tokenizer_for(data.spec.vocabulary)
    texts = sorted(tokenizer.decode(r) for r in torch.cat([data.train, data.test]).tolist())
    assert texts == sorted([m for m in molecules if m])
    assert data.stats["train"].empty == 3 and len(data.test) == 1
    assert is_sequence_source(str(tmp_path / "m.csv"), "auto", "smiles")
    assert not is_sequence_source(str(tmp_path / "m.csv"), "auto", None)


@pytest.mark.parametrize(
    ("content", "column", "match"),
    [
        ("", None, "is empty"),
        ("\n  \n\n", None, "holds no text"),
        ("a,b\nx,y\n", None, "name the one that holds the text"),
        ("text,n\nhi,1\n", "txt", "Did you mean 'text'"),
        ("text,n\nhi,1\n", "n", "holds numbers"),
    ],
)
def test_bad_input_is_a_clear_data_error(tmp_path: Path, content: str, column: str | None, match: str) -> None:
    path = tmp_path / ("t.csv" if "," in content else "t.txt")
    path.write_text(content)
    with pytest.raises(DataError, match=match):
        load_sequences(str(path), SequenceOptions(column=column))


def test_a_missing_source_and_a_folder_without_splits_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="Did you mean 'wordnet-glosses'"):
        load_sequences("wordnet-gloses", SequenceOptions())
    with pytest.raises(DataError, match="train.txt and test.txt"):
        read_splits(str(tmp_path), SequenceOptions())
    (tmp_path / "bad.txt").write_bytes(b"fine\n\xff\xfe\n")
    with pytest.raises(DataError, match="line 2 is not UTF-8"):
        load_sequences(str(tmp_path / "bad.txt"), SequenceOptions())


def test_the_spec_round_trips_through_json(tmp_path: Path) -> None:
    data = load_sequences(str(_write(tmp_path / "t.txt", _corpus(20))), SequenceOptions(tokenizer="char"))
    again = DataSpec.from_json(data.spec.to_json())
    assert again == data.spec and again.levels == len(again.vocabulary)
    row = data.train[0].tolist()
    assert tokenizer_for(again.vocabulary).decode(row) == tokenizer_for(data.spec.vocabulary).decode(row)


# --- batches


def _lengths(n: int = 1000, seed: int = 0) -> torch.Tensor:
    return torch.randint(1, 60, (n,), generator=torch.Generator().manual_seed(seed))


def _plan(lengths: torch.Tensor, seed: int, batch_size: int = 32, bucket: bool = True) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(lengths), generator=g)
    return BucketBatches(lengths, bucket=bucket).plan(order, batch_size, g)


def test_bucketed_batches_take_every_example_once_in_as_many_batches() -> None:
    lengths = _lengths(1000)
    plan = _plan(lengths, seed=3)
    assert len(plan) == math.ceil(1000 / 32) == len(_plan(lengths, 3, bucket=False))
    assert torch.equal(torch.cat(plan).sort().values, torch.arange(1000))


def test_bucketed_batches_are_length_homogeneous_and_pad_less() -> None:
    lengths = _lengths(3000)
    bucketed, random_ = _plan(lengths, 1), _plan(lengths, 1, bucket=False)

    def spread(plan: list[torch.Tensor]) -> float:
        return sum(int(lengths[b].max() - lengths[b].min()) for b in plan) / len(plan)

    assert spread(bucketed) < 0.2 * spread(random_)
    assert padding_share(lengths, bucketed) < 0.5 * padding_share(lengths, random_)
    shares = padding_shares(lengths, 59, 32, torch.Generator().manual_seed(0))
    assert shares["bucketed"] < shares["random"] < shares["full"]


def test_the_same_seed_gives_the_same_batches_and_another_seed_others() -> None:
    lengths = _lengths(500)
    same = zip(_plan(lengths, 7), _plan(lengths, 7), strict=True)
    assert all(torch.equal(a, b) for a, b in same)
    assert not all(torch.equal(a, b) for a, b in zip(_plan(lengths, 7), _plan(lengths, 8), strict=True))


class _Recorder(nn.Module):
    """A loss module that records the batches it is given (a stand-in for a model and objective)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))
        self.seen: list[torch.Tensor] = []

    def forward(self, x, step, generator, cond=None) -> LossOutput:
        self.seen.append(x.clone())
        loss = self.w**2 + x.float().mean() * 0
        return LossOutput(loss, {"loss": loss.detach()})


def test_the_training_loop_trains_on_trimmed_bucketed_batches(tmp_path: Path) -> None:
    data = load_sequences(str(_write(tmp_path / "t.txt", _corpus(300))), SequenceOptions(test_fraction=0.1))
    lengths = lengths_of(data.train)
    module = _Recorder()
    result = train_epoch(
        module,
        torch.optim.SGD(module.parameters(), lr=0.1),
        data.train,
        batch_size=16,
        step=0,
        shuffle_generator=torch.Generator().manual_seed(5),
        generator=torch.Generator().manual_seed(6),
        progress=False,
        batcher=BucketBatches(lengths),
    )
    assert result.steps == math.ceil(len(data.train) / 16) == len(module.seen)
    for x in module.seen:  # each batch as wide as its longest row: no column of only <pad>
        assert x.dtype == torch.int64 and int(lengths_of(x).max()) == x.shape[1]
    seen = sorted(tuple(r[r != 0].tolist()) for x in module.seen for r in x)
    assert seen == sorted(tuple(r[r != 0].tolist()) for r in data.train)  # every example once, none cut


# --- wordnet-glosses


def _data_file(glosses: list[str]) -> bytes:
    header = "  1 This software and database is being provided to you, the LICENSEE | by Princeton\n"
    lines = [f"{i:08d} 03 n 01 word 0 000 | {g}" for i, g in enumerate(glosses)]
    return (header + "\n".join(lines) + "\n").encode()


RAW = {
    "data.noun": [
        'a stitch taken in knitting; "she dropped a stitch"',
        "the naval battle  in which Antony was defeated ;  by Octavian",
        '"only an example"',
    ]
    + [f"noun gloss number {i}" for i in range(30)],
    "data.verb": ['put on or wear a hat; "he hatted himself"; "a second example"'],
    "data.adj": [f"adjective gloss {i}" for i in range(10)],
    "data.adv": ["in the recent past"],
}
EXPECTED = (
    ["a stitch taken in knitting", "the naval battle in which Antony was defeated; by Octavian"]
    + [f"noun gloss number {i}" for i in range(30)]
    + ["put on or wear a hat"]
    + [f"adjective gloss {i}" for i in range(10)]
    + ["in the recent past"]
)


def _archive(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, glosses in RAW.items():
            body = _data_file(glosses)
            info = tarfile.TarInfo(f"WordNet-3.0/dict/{name}")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return path


def _expected_files() -> dict[str, bytes]:
    idx = list(range(len(EXPECTED)))
    random.Random(SPLIT_SEED).shuffle(idx)
    k = len(EXPECTED) // 20
    parts = {"test": idx[:k], "valid": idx[k : 2 * k], "train": idx[2 * k :]}
    return {f"{n}.txt": "".join(EXPECTED[i] + "\n" for i in rows).encode() for n, rows in parts.items()}


def _sums(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def test_wordnet_glosses_are_downloaded_built_checked_and_read(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (mirror.root / "wordnet_glosses").mkdir()
    archive = _archive(mirror.root / "wordnet_glosses" / "WordNet-3.0.tar.gz")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    files = _expected_files()
    source = dataclasses.replace(
        sequences.TEXT_SOURCES["wordnet-glosses"],
        archive=RemoteFile("WordNet-3.0.tar.gz", f"sha256:{digest}"),
        sums=_sums(files),
    )
    monkeypatch.setitem(sequences.TEXT_SOURCES, "wordnet-glosses", source)
    monkeypatch.setenv("VAEKIT_MIRROR", mirror.url)
    data = load_sequences("wordnet-glosses", SequenceOptions(data_dir=tmp_path / "d"))
    folder = tmp_path / "d" / "wordnet_glosses"
    assert sorted(p.name for p in folder.iterdir()) == ["test.txt", "train.txt", "valid.txt"]  # the archive deleted
    assert {name: (folder / name).read_bytes() for name in files} == files
    assert [len(data.train), len(data.valid), len(data.test)] == [40, 2, 2]  # 44 glosses: N // 20 = 2
    assert mirror.requests == ["/wordnet_glosses/WordNet-3.0.tar.gz"]
    load_sequences("wordnet-glosses", SequenceOptions(data_dir=tmp_path / "d"))
    assert len(mirror.requests) == 1  # built once


def test_a_build_that_differs_from_the_published_sums_writes_nothing(tmp_path: Path) -> None:
    archive = _archive(tmp_path / "WordNet-3.0.tar.gz")
    with pytest.raises(DataError, match="differ from the published files"):
        build_glosses(archive, tmp_path / "out", GLOSS_FILES)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    built = build_glosses(archive, tmp_path / "out", _sums(_expected_files()))
    assert sorted(built) == ["test.txt", "train.txt", "valid.txt"]


def test_downloads_off_and_no_files_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="downloads are off"):
        load_sequences("wordnet-glosses", SequenceOptions(data_dir=tmp_path, download=False))
    with pytest.raises(DataError):
        ensure_glosses(tmp_path / "w", [], download=True)  # no URL to try
    assert not list(tmp_path.rglob("*.txt"))


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/wordnet_glosses is absent")
def test_the_shared_glosses_match_the_published_sums_and_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    assert {n: hashlib.sha256((SHARED / n).read_bytes()).hexdigest() for n in GLOSS_FILES} == GLOSS_FILES
    splits, _, own = read_splits("wordnet-glosses", SequenceOptions(data_dir=SHARED.parent, download=False))
    assert own and {n: len(v) for n, v in splits.items()} == {"train": 105895, "valid": 5882, "test": 5882}


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_bucketed_batches_on_cuda_match_the_plan_and_trim() -> None:
    lengths = _lengths(300)
    x = torch.zeros(300, 60, dtype=torch.int64)
    for i, n in enumerate(lengths.tolist()):
        x[i, : n - 1], x[i, n - 1] = 5, Vocabulary.eos_id
    g = torch.Generator(device="cuda").manual_seed(0)
    order = torch.randperm(300, generator=g, device="cuda")
    index_batches, rows = BucketBatches(lengths)(x.cuda(), order, 32, g)
    assert torch.equal(torch.cat(index_batches).sort().values.cpu(), torch.arange(300))
    for idx, xb in zip(index_batches, rows, strict=True):
        assert xb.is_cuda and xb.shape[1] == int(lengths[idx.cpu()].max())
