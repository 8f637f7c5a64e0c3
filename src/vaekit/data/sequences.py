"""Sequences as data: text with one example a line (a .txt file, or a column of a CSV/TSV/Parquet file), tokenized
(vaekit.data.tokenizers), held as int64 token ids (N, T): each row its tokens, then <eos>, then <pad> (0) to T.

    source           a .txt file (.txt.gz too); a folder holding train.txt and test.txt (valid.txt too: the
                     source's own split); a CSV/TSV/Parquet file with `data.column` (or a single column); or the
                     built-in `wordnet-glosses` (vaekit.data.wordnet), looked for in <data dir>/wordnet_glosses; or the
                     built-in `moses` (vaekit.data.moses: SMILES), in <data dir>/moses
    data.tokenizer   auto (the source's own: smiles for moses, else word) | char | word | smiles | the path of a
                     Hugging Face tokenizer.json
    data.vocab_size  the vocabulary's size, its four specials included: the most frequent tokens of the training
                     split (0: every token seen there); the others are read as <unk>, counted in the load summary
    data.max_length  the longest row kept, <eos> included: longer examples are truncated, and counted
    data.lowercase   lowercase the text before tokenizing

Lines are stripped of surrounding whitespace; empty lines are dropped and counted. The vocabulary and T (the longest
row kept) are recorded in the run's DataSpec; a later file is read with them (tokens the run never saw become
<unk>, rows longer than T are truncated; both counted and said).

Batches (`BucketBatches`): a seeded epoch order cut into chunks of BUCKET_BATCHES batches, each chunk sorted by
length and cut into batches, the batches then shuffled; each batch is trimmed to its own longest row. The order
depends only on the epoch's shuffling generator, so a resumed run sees the same batches.
"""

from __future__ import annotations

import difflib
import gzip
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from vaekit.data.download import RemoteFile, base_urls, local_path
from vaekit.data.moses import MOSES_FILES, MOSES_URLS, ensure_moses, read_smiles
from vaekit.data.moses import SPLITS as MOSES_SPLITS
from vaekit.data.tables import TABLE_SUFFIXES, column_texts, hold_out
from vaekit.data.tokenizers import (
    BUILT_IN,
    Splitter,
    Tokenizer,
    build_vocabulary,
    read_tokenizer_file,
    tokenizer_for,
)
from vaekit.data.types import SourceInfo
from vaekit.data.wordnet import GLOSS_FILES, WORDNET_ARCHIVE, WORDNET_URLS, ensure_glosses
from vaekit.errors import DataError
from vaekit.spec import DataSpec, Vocabulary

TEXT_SUFFIXES = (".txt", ".txt.gz")
SPLIT_FILES = ("train.txt", "valid.txt", "test.txt")
BUCKET_BATCHES = 50  # batches per chunk sorted by length: large enough for homogeneous batches, small enough to mix
MAX_UNK_SHARE = 0.05  # above this share of <unk> tokens the load summary warns
MAX_TRUNCATED_SHARE = 0.01
MIN_STEPS = 20
MIN_TEST = 100


@dataclass(frozen=True)
class TextSource:
    """A built-in text source: its files in <data dir>/<directory>, fetched (and built) on first use by `ensure`,
    its training and test splits read by `read`."""

    name: str
    description: str
    directory: str
    files: tuple[str, ...]
    archive: RemoteFile | None  # what the files are built from, with its checksum (None: the files are downloaded)
    sums: dict[str, str]  # sha256 of each file
    urls: tuple[str, ...] = ()  # official base URLs (VAEKIT_MIRROR replaces them)
    tokenizer: str = "word"  # the tokenizer of data.tokenizer=auto
    splits: dict[str, str] = field(default_factory=dict)  # {split: file} (empty: each file is the split it names)

    def ensure(self, folder: Path, urls: Sequence[str], download: bool) -> dict[str, Path]:
        """{file: path} of the source's files in `folder`, fetched and checked the first time."""
        if self.archive is None:
            return ensure_moses(folder, urls, download, self.sums)
        return ensure_glosses(folder, urls, download, self.archive, self.sums)

    def read(self, paths: dict[str, Path]) -> dict[str, list[str]]:
        """{split: lines} of the files."""
        if self.splits:
            return {split: read_smiles(paths[name]) for split, name in self.splits.items()}
        return {n.removesuffix(".txt"): read_lines(p) for n, p in paths.items()}


TEXT_SOURCES = {
    "wordnet-glosses": TextSource(
        "wordnet-glosses",
        "WordNet 3.0's English definitions (Princeton University), one a line: 105895 train / 5882 valid / 5882 test, "
        "median 8 words; built from the official archive (checksummed) on first use",
        "wordnet_glosses",
        tuple(GLOSS_FILES),
        WORDNET_ARCHIVE,
        GLOSS_FILES,
        WORDNET_URLS,
    ),
    "moses": TextSource(
        "moses",
        "MOSES (Polykovskiy et al. 2020): ZINC molecules as SMILES, 1584663 train / 176074 test (test_scaffolds kept "
        "for `vaekit evaluate --molecules`); the smiles tokenizer by default; downloaded (checksummed) on first use",
        "moses",
        tuple(MOSES_FILES),
        None,
        MOSES_FILES,
        MOSES_URLS,
        tokenizer="smiles",
        splits=dict(MOSES_SPLITS),
    ),
}


def list_text_sources(data_dir: Path) -> list[SourceInfo]:
    """One SourceInfo per built-in text source, for `vaekit datasets`."""
    return [
        SourceInfo(s.name, s.description, data_dir / s.directory, s.files, _present(data_dir / s.directory, s.files))
        for s in TEXT_SOURCES.values()
    ]


def _present(folder: Path, files: Sequence[str]) -> bool:
    return all((folder / f).is_file() for f in files)


def is_sequence_source(source: str, kind: str = "auto", column: str | None = None) -> bool:
    """Whether `source` is read as sequences: data.kind=sequence, a built-in text source, a .txt file, a folder with
    train.txt and test.txt, or (data.kind=auto) a table file with data.column naming its text column."""
    if kind != "auto":
        return kind == "sequence"
    if source in TEXT_SOURCES:
        return True
    path = Path(source).expanduser()
    if _suffix(path) in TEXT_SUFFIXES:
        return True
    if column is not None and _suffix(path) in (*TABLE_SUFFIXES, ".csv.gz", ".tsv.gz"):
        return True
    return path.is_dir() and (path / "train.txt").is_file() and (path / "test.txt").is_file()


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    return "".join(suffixes) if suffixes[-1:] == [".gz"] else (suffixes[-1] if suffixes else "")


@dataclass
class SequenceOptions:
    """What data.* says about sequences."""

    tokenizer: str = "auto"  # auto (the source's own: smiles for moses, else word) | char | word | smiles | a .json
    vocab_size: int = 0
    max_length: int = 0
    column: str | None = None
    lowercase: bool = False
    test_fraction: float = 0.1
    split_seed: int = 0
    data_dir: Path | None = None
    download: bool = True
    train_limit: int = 0  # at most this many training examples, a random subset drawn with split_seed (0: all)
    test_limit: int = 0  # as train_limit, for the test split


@dataclass(frozen=True)
class SplitStats:
    """What reading one split did: its examples, the tokens kept (<eos> included), how many were <unk>, the rows
    truncated and the empty lines dropped."""

    examples: int = 0
    tokens: int = 0
    unknown: int = 0
    truncated: int = 0
    empty: int = 0

    def __add__(self, other: SplitStats) -> SplitStats:
        return SplitStats(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, ...]:
        return (self.examples, self.tokens, self.unknown, self.truncated, self.empty)


@dataclass(frozen=True, eq=False)
class SequenceData:
    """Train/test (and valid, where the source has it) token ids (N, T) int64, the spec (vocabulary, T) and what
    loading did. `padding`: the share of <pad> in an epoch's batches, by how they are made (set by the workflow,
    which knows the batch size)."""

    name: str
    train: torch.Tensor  # (N, T) int64
    test: torch.Tensor  # (M, T) int64
    spec: DataSpec
    valid: torch.Tensor | None = None  # (V, T) int64
    read: str = ""
    split: str = ""
    stats: dict[str, SplitStats] = field(default_factory=dict)  # by split
    new_vocabulary: bool = True  # the vocabulary was built from this data's training split (else: the run's)
    padding: dict[str, float] = field(default_factory=dict)
    batch_size: int = 0  # the batch the padding shares were measured at
    warnings: tuple[str, ...] = ()
    train_labels: torch.Tensor | None = None  # sequences have no labels (the names shared with the other kinds)
    test_labels: torch.Tensor | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.spec.event_shape

    def pixels(self, split: str) -> torch.Tensor:
        """The split's token ids (the name shared with images)."""
        return self.train if split == "train" else self.test


# ---------------------------------------------------------------------------------------------------------------
# Reading text


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file (gzip-compressed when it ends in .gz), without their line ends."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix.lower() == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path} cannot be read ({exc}).") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}: line {line} is not UTF-8 text ({exc.reason}). Save the file as UTF-8.") from None
    lines = text.removeprefix("\ufeff").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln.rstrip("\r") for ln in lines]


def _texts_of(path: Path, column: str | None) -> list[str]:
    if _suffix(path) in TEXT_SUFFIXES:
        if column is not None:
            raise DataError(f"data.column='{column}' names a column, but {path} is a text file (one example a line).")
        return read_lines(path)
    if _suffix(path) in (*TABLE_SUFFIXES, ".csv.gz", ".tsv.gz"):
        return column_texts(path, column)
    raise DataError(
        f"{path}: sequences are read from .txt files (one example a line), a folder with train.txt and test.txt, or "
        f"a column of a {', '.join(TABLE_SUFFIXES)} file (data.column)."
    )


def read_splits(source: str, options: SequenceOptions) -> tuple[dict[str, list[str]], str, bool]:
    """({split: lines}, what was read, whether the splits are the source's own), before empty lines are dropped.

    Without own splits the lines come as {"all": lines}."""
    if source in TEXT_SOURCES:
        spec = TEXT_SOURCES[source]
        root = options.data_dir or _default_data_dir()
        folder = root / spec.directory
        urls = base_urls(spec.directory, spec.urls)
        archived = spec.archive is not None and local_path(spec.archive, folder) is not None
        if not _present(folder, spec.files) and not archived and not options.download:
            raise DataError(
                f"the data set '{source}' needs {', '.join(spec.files)} in {folder}, and downloads are off "
                "(data.download=false). Fix: allow the download, or set VAEKIT_DATA (or data.data_dir) to a folder "
                f"whose '{spec.directory}' subfolder holds them."
            )
        return spec.read(spec.ensure(folder, urls, options.download)), f"{folder}", True
    path = Path(source).expanduser()
    if path.is_dir():
        files = {n.removesuffix(".txt"): path / n for n in SPLIT_FILES if (path / n).is_file()}
        if "train" not in files or "test" not in files:
            raise DataError(
                f"{path} is a folder: a folder of sequences holds train.txt and test.txt (valid.txt too), one example "
                f"a line; it has {sorted(p.name for p in path.iterdir())[:10]}."
            )
        return {n: read_lines(p) for n, p in files.items()}, str(path), True
    if not path.is_file():
        close = difflib.get_close_matches(source, list(TEXT_SOURCES), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise DataError(
            f"'{source}' is neither a built-in text source nor an existing file.{hint} Built-in: "
            f"{', '.join(TEXT_SOURCES)}; files: .txt (one example a line), or a CSV/TSV/Parquet column (data.column)."
        )
    lines = _texts_of(path, options.column)
    where = f"{path}" + (f" column '{options.column}'" if options.column else "")
    return {"all": lines}, where, False


def _default_data_dir() -> Path:
    from vaekit.data.sources import default_data_dir  # the image sources' module owns the data folder

    return default_data_dir()


def default_tokenizer(source: str, tokenizer: str) -> str:
    """data.tokenizer, `auto` resolved: the built-in source's own (smiles for moses), else word."""
    if tokenizer != "auto":
        return tokenizer
    return TEXT_SOURCES[source].tokenizer if source in TEXT_SOURCES else "word"


def limit_lines(lines: list[str], limit: int, seed: int) -> list[str]:
    """A seeded random subset of `limit` lines, in their order (a quick run on part of a large corpus)."""
    keep = np.sort(np.random.default_rng(seed).permutation(len(lines))[:limit])
    return [lines[i] for i in keep]


def drop_empty(lines: list[str]) -> tuple[list[str], int]:
    """The lines stripped of surrounding whitespace, the empty ones dropped; and how many were."""
    kept = [s for s in (ln.strip() for ln in lines) if s]
    return kept, len(lines) - len(kept)


# ---------------------------------------------------------------------------------------------------------------
# Encoding


def encode_rows(token_lists: list[list[str]], tokenizer: Tokenizer, limit: int) -> tuple[list[list[int]], SplitStats]:
    """Token ids of each example with <eos> appended, at most `limit` ids (<eos> included; 0: no limit)."""
    rows, unknown, truncated, tokens = [], 0, 0, 0
    for strings in token_lists:
        ids = tokenizer.lookup(strings)
        if limit and len(ids) > limit - 1:
            ids = ids[: limit - 1]
            truncated += 1
        unknown += ids.count(Vocabulary.unk_id)
        ids.append(Vocabulary.eos_id)
        tokens += len(ids)
        rows.append(ids)
    return rows, SplitStats(len(rows), tokens, unknown, truncated)


def pad_rows(rows: list[list[int]], width: int) -> torch.Tensor:
    """Rows of ids as (N, width) int64, <pad> (0) after each row."""
    x = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        x[i, : len(row)] = row
    return torch.from_numpy(x)


def lengths_of(x: torch.Tensor) -> torch.Tensor:
    """Each row's length, its tokens and <eos>: (N,) int64."""
    return (x != Vocabulary.pad_id).sum(-1)


def decode_texts(spec: DataSpec, x: torch.Tensor) -> list[str]:
    """Token ids x (N, T) as N texts (each up to its <eos>); a line break inside a text is written as a space, so
    that one example stays one line."""
    tokenizer = tokenizer_for(spec.vocabulary)  # cached per vocabulary
    rows = x.detach().cpu().long().tolist()
    return [" ".join(tokenizer.decode(row).splitlines()) for row in rows]


def load_sequences(source: str, options: SequenceOptions, spec: DataSpec | None = None) -> SequenceData:
    """The sequences at `source`, split, tokenized and padded.

    spec: a run's recorded spec: the text is read with its vocabulary and padded to its T (a later file read like
    the training data); None: the vocabulary is built from the training split, T is the longest row kept.
    """
    splits, read, own = read_splits(source, options)
    empty: dict[str, int] = {}
    for name in list(splits):
        splits[name], empty[name] = drop_empty(splits[name])
    if sum(len(v) for v in splits.values()) == 0:
        total = sum(empty.values())
        what = "is empty" if total == 0 else f"holds no text ({total} empty lines)"
        raise DataError(f"{read} {what}: sequences need one example a line.")
    if own:
        split = "the source's own split (" + ", ".join(f"{n} {len(v)}" for n, v in splits.items()) + ")"
    else:
        lines = splits.pop("all")
        train_rows, test_rows = hold_out(len(lines), options.test_fraction, options.split_seed)
        splits = {"train": [lines[i] for i in train_rows], "test": [lines[i] for i in test_rows]}
        empty = {"train": empty["all"], "test": 0}
        split = f"test held out at random: {len(test_rows)} of {len(lines)} examples (seed {options.split_seed})"
    if not splits["train"]:
        raise DataError(f"{read}: the training split holds no text.")
    for name, limit in (("train", options.train_limit), ("test", options.test_limit)):
        if 0 < limit < len(splits[name]):
            n = len(splits[name])
            splits[name] = limit_lines(splits[name], limit, options.split_seed)
            split += f"; {name} split limited to a random {limit} of {n} (data.{name}_limit)"
    new_vocabulary = spec is None
    if spec is not None:
        vocabulary, tokenizer_json = spec.vocabulary, spec.vocabulary.tokenizer_json
        splitter = Splitter(vocabulary.tokenizer, vocabulary.lowercase, tokenizer_json)
    else:
        name, tokenizer_json = default_tokenizer(source, options.tokenizer), None
        if name not in BUILT_IN:
            name, tokenizer_json = "huggingface", read_tokenizer_file(options.tokenizer)
        splitter = Splitter(name, options.lowercase, tokenizer_json)
    token_lists = {n: [splitter.split(t) for t in lines] for n, lines in splits.items()}
    if spec is None:
        vocabulary = build_vocabulary(
            token_lists["train"], splitter.name, options.vocab_size, options.lowercase, tokenizer_json
        )
    tokenizer = Tokenizer(vocabulary)
    limit = spec.event_shape[0] if spec is not None else options.max_length
    encoded = {n: encode_rows(lists, tokenizer, limit) for n, lists in token_lists.items()}
    width = spec.event_shape[0] if spec is not None else max(len(r) for rows, _ in encoded.values() for r in rows)
    stats = {n: SplitStats(*s.astuple()[:4], empty.get(n, 0)) for n, (_, s) in encoded.items()}
    tensors = {n: pad_rows(rows, width) for n, (rows, _) in encoded.items()}
    if spec is None:
        preprocessing = {"tokenizer": vocabulary.tokenizer, "lowercase": options.lowercase}
        preprocessing |= {"vocab_size": options.vocab_size, "max_length": options.max_length}
        if options.column:
            preprocessing["column"] = options.column
        spec = DataSpec.sequence(vocabulary, width, preprocessing)
    warnings: list[str] = []
    total = sum(stats.values(), SplitStats())
    if not new_vocabulary:  # a later file read with the run's vocabulary and T: say what did not fit
        if total.unknown:
            warnings.append(
                f"{total.unknown:,} of the {total.tokens:,} tokens of {read} "
                f"({_share(total.unknown, total.tokens)}) are not in the run's vocabulary: read as <unk>."
            )
        if total.truncated:
            warnings.append(
                f"{total.truncated} of the {total.examples} sequences of {read} are longer than the run's T = {width} "
                "tokens (<eos> included): truncated."
            )
    return SequenceData(
        source,
        tensors["train"],
        tensors["test"],
        spec,
        tensors.get("valid"),
        read,
        split,
        stats,
        new_vocabulary=new_vocabulary,
        warnings=tuple(warnings),
    )


# ---------------------------------------------------------------------------------------------------------------
# Batches


class BucketBatches:
    """An epoch's batches of sequences (`vaekit.train.loop.Batcher`): bucketed by length (or not), each trimmed to
    its own longest row, from the epoch's shuffled order and its shuffling generator only.

    lengths: (N,) int64 on the CPU, each row's tokens and <eos>.
    """

    def __init__(self, lengths: torch.Tensor, bucket: bool = True, bucket_batches: int = BUCKET_BATCHES) -> None:
        self.lengths = lengths.cpu()
        self.bucket = bucket
        self.bucket_batches = bucket_batches

    def plan(self, order: torch.Tensor, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
        """Index batches (CPU) of a shuffled `order` (n,): ceil(n / batch_size) of them, every index once."""
        order = order.cpu()
        if not self.bucket:
            return list(order.split(batch_size))
        chunk = batch_size * self.bucket_batches
        pieces: list[torch.Tensor] = []
        for start in range(0, order.shape[0], chunk):
            part = order[start : start + chunk]
            part = part[torch.sort(self.lengths[part], stable=True).indices]  # shortest first within the chunk
            pieces.extend(part.split(batch_size))
        shuffled = torch.randperm(len(pieces), generator=generator, device=generator.device).tolist()
        return [pieces[i] for i in shuffled]

    def widths(self, index_batches: Sequence[torch.Tensor]) -> list[int]:
        return [int(self.lengths[idx].max()) if idx.numel() else 0 for idx in index_batches]

    def __call__(
        self, data: torch.Tensor, order: torch.Tensor, batch_size: int, generator: torch.Generator
    ) -> tuple[list[torch.Tensor], Iterator[torch.Tensor]]:
        plan = self.plan(order, batch_size, generator)
        widths = self.widths(plan)
        index_batches = [idx.to(order.device) for idx in plan]
        rows = (data.index_select(0, idx)[:, :w] for idx, w in zip(index_batches, widths, strict=True))
        return index_batches, rows  # rows: (b, w) each


def padding_share(lengths: torch.Tensor, index_batches: Sequence[torch.Tensor], width: int | None = None) -> float:
    """<pad> tokens / all tokens of the batches, each batch `width` wide (None: its own longest row)."""
    tokens = padded = 0
    for idx in index_batches:
        rows = lengths[idx]
        w = width if width is not None else int(rows.max())
        tokens += int(rows.sum())
        padded += w * rows.numel()
    return 1.0 - tokens / padded if padded else 0.0


def padding_shares(lengths: torch.Tensor, width: int, batch_size: int, generator: torch.Generator) -> dict:
    """The padding of one epoch's batches: padded to T ("full"), random batches each trimmed ("random"), bucketed
    batches each trimmed ("bucketed"); from one shuffled order drawn with `generator`."""
    order = torch.randperm(lengths.shape[0], generator=generator, device=generator.device).cpu()
    plain = BucketBatches(lengths, bucket=False).plan(order, batch_size, generator)
    bucketed = BucketBatches(lengths, bucket=True).plan(order, batch_size, generator)
    return {
        "full": padding_share(lengths, plain, width),
        "random": padding_share(lengths, plain),
        "bucketed": padding_share(lengths, bucketed),
    }


# ---------------------------------------------------------------------------------------------------------------
# The load summary


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.2%}" if whole else "0%"


def summary_lines(data: SequenceData) -> list[str]:
    """Where the text came from and how it was split; examples, tokens, vocabulary, <unk>, truncation, padding."""
    spec = data.spec
    vocabulary = spec.vocabulary
    total = sum((s for s in data.stats.values()), SplitStats())
    counts = " / ".join(f"{s.examples} {n}" for n, s in data.stats.items())
    lengths = lengths_of(data.train).double()
    tokenizer = vocabulary.tokenizer + (", lowercased" if vocabulary.lowercase else "")
    whence = "from the training split" if data.new_vocabulary else "the run's"
    lines = [
        f"data: {data.name}: read {data.read}; {data.split}",
        f"data: {counts} sequences, {total.tokens:,} tokens (<eos> counted); {tokenizer} tokenizer; vocabulary "
        f"{len(vocabulary):,} tokens ({whence}, 4 specials included); <unk> {_share(total.unknown, total.tokens)} of "
        f"tokens; longest row T = {spec.event_shape[0]} (<eos> included), train median "
        f"{float(lengths.median()) if len(lengths) else 0:.0f}; truncated {total.truncated}; empty lines dropped "
        f"{total.empty}",
    ]
    if data.padding:
        p = data.padding
        lines.append(
            f"data: padding share at batch {data.batch_size}: {p['bucketed']:.1%} bucketed by length, "
            f"{p['random']:.1%} in random batches each trimmed to its longest row, {p['full']:.1%} padded to T"
        )
    return lines


def sequence_warnings(data: SequenceData, batch_size: int, mlp: bool = False) -> list[str]:
    """Warnings about sequences that will train or test badly, each with what to do."""
    warnings = list(data.warnings)
    total = sum((s for s in data.stats.values()), SplitStats())
    if total.tokens and total.unknown / total.tokens > MAX_UNK_SHARE:
        fix = "a larger data.vocab_size (or 0: every token)" if data.new_vocabulary else "text closer to the run's"
        warnings.append(
            f"{_share(total.unknown, total.tokens)} of the tokens are <unk> (not in the "
            f"{len(data.spec.vocabulary):,}-token vocabulary): the model learns little about them. Use {fix}."
        )
    if total.examples and total.truncated / total.examples > MAX_TRUNCATED_SHARE:
        warnings.append(
            f"{total.truncated} of {total.examples} sequences ({_share(total.truncated, total.examples)}) were cut to "
            f"{data.spec.event_shape[0]} tokens: their ends are lost. Raise data.max_length if they matter."
        )
    steps = math.ceil(len(data.train) / batch_size)
    if steps < MIN_STEPS:
        warnings.append(
            f"an epoch is {steps} step{'s' * (steps != 1)} ({len(data.train)} sequences at batch {batch_size}): use a "
            f"smaller train.batch_size (e.g. {max(1, len(data.train) // MIN_STEPS)}) or more epochs."
        )
    if len(data.test) < MIN_TEST:
        warnings.append(
            f"the test split holds {len(data.test)} sequences: test metrics will be too noisy to compare runs. Give "
            "more text or a larger data.test_fraction."
        )
    return warnings
