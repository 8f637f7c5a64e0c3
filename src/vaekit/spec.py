"""DataSpec: what x is, for every layer. Saved with every run as spec.json (plain JSON, never pickle).

    image   event shape (C, H, W); every pixel binary, one of `levels` values, or real
    table   event shape (D,); one column per dimension: real (standardized with the training split's mean and
            standard deviation), count (non-negative integers), binary (two values) or categorical (K categories,
            held as the category's index)
    sequence  event shape (T,), T the longest sequence kept (its <eos> included); each position a token id of the
            run's vocabulary (`levels` = V): an example is its tokens, then <eos>, then <pad> to the batch's length.
            x is an int64 tensor (B, T_batch) with T_batch <= T; <bos> is never in x (the decoder starts from it).

Builders take a spec, never a bare shape; what differs by kind (the networks it takes, how examples are written and
shown, the units of the evaluation) is looked up by `spec.kind`, in `KINDS` here and in the per-kind tables of the
layers above (vaekit.views).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from vaekit.errors import RunError

COLUMN_TYPES = ("real", "count", "binary", "categorical")


@dataclass(frozen=True)
class Column:
    """One column of a table: its name, type and how its values map to the numbers the model sees.

    real: x = (v - mean) / std; count: x = v (`mean`: the training mean, where the decoder's rates start);
    binary: x = index of v in `categories` (two values, sorted); categorical: x = index of v in `categories`.
    `dtype` is the column's type in the source (pandas' name), so that values written back have it.
    """

    name: str
    type: str
    categories: tuple[str, ...] = ()
    mean: float = 0.0
    std: float = 1.0
    dtype: str = "float64"

    @property
    def width(self) -> int:
        """Numbers the encoder reads for this column: one, or one per category (one-hot)."""
        return len(self.categories) if self.type == "categorical" else 1


@dataclass(frozen=True)
class Kind:
    """The facts of one kind of data that every layer may ask for."""

    name: str
    networks: tuple[str, ...]  # model.network.type values whose bodies take this kind
    dims_word: str  # what one dimension is called, for messages ("pixel", "column")
    example_word: str  # what one example is called ("image", "row")
    sample_draws: bool  # samples are draws x ~ p(x|z) (synthetic rows); else the mean of p(x|z) (images)


KINDS = {
    "image": Kind("image", ("mlp", "conv"), "pixel", "image", False),
    "table": Kind("table", ("mlp",), "column", "row", True),
    "sequence": Kind("sequence", ("recurrent",), "token", "sequence", True),
}

TOKENIZERS = ("char", "word", "smiles", "huggingface")
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")  # ids 0, 1, 2, 3 of every vocabulary, in this order


@dataclass(frozen=True)
class Vocabulary:
    """A sequence kind's tokens: id i is `tokens[i]`; the first four are SPECIALS (<pad> 0, <bos> 1, <eos> 2,
    <unk> 3). `tokenizer` says how text becomes tokens (char, word, smiles: the atom-level regex; huggingface: the
    tokenizer file's JSON in `tokenizer_json`, whose own ids map to ours by token string)."""

    tokens: tuple[str, ...]
    tokenizer: str = "word"
    tokenizer_json: str | None = None
    lowercase: bool = False

    pad_id = 0
    bos_id = 1
    eos_id = 2
    unk_id = 3

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass(frozen=True)
class DataSpec:
    """What x is: its kind, the shape of one example, the support of each dimension, the columns of a table, the
    label column (the conditional VAE's classes) and the preprocessing applied at load (recorded so that every new
    file is read the same way)."""

    kind: str
    event_shape: tuple[int, ...]  # (C, H, W) | (D,) | (T,)
    support: str  # image: "binary" | "levels" | "real" for every pixel; table: "columns"; sequence: "tokens"
    levels: int | None = None  # image: the values a pixel takes (2 binary, 256 8-bit); sequence: V; else None
    columns: tuple[Column, ...] = ()
    label: Column | None = None  # table: the class column kept out of x (categorical)
    vocabulary: Vocabulary | None = None  # sequence: the tokens (levels = len(vocabulary))
    preprocessing: dict[str, Any] = field(default_factory=dict)

    @property
    def facts(self) -> Kind:
        return KINDS[self.kind]

    @property
    def num_dims(self) -> int:
        return math.prod(self.event_shape)

    @property
    def is_smiles(self) -> bool:
        """Whether examples are molecules: sequences read with the SMILES tokenizer."""
        return self.kind == "sequence" and self.vocabulary is not None and self.vocabulary.tokenizer == "smiles"

    @classmethod
    def image(cls, shape: tuple[int, ...], levels: int | None = None, preprocessing: dict | None = None) -> DataSpec:
        support = "real" if levels is None else ("binary" if levels == 2 else "levels")
        return cls("image", tuple(int(s) for s in shape), support, levels, preprocessing=preprocessing or {})

    @classmethod
    def table(
        cls, columns: tuple[Column, ...], label: Column | None = None, preprocessing: dict | None = None
    ) -> DataSpec:
        return cls("table", (len(columns),), "columns", None, tuple(columns), label, preprocessing=preprocessing or {})

    @classmethod
    def sequence(cls, vocabulary: Vocabulary, max_length: int, preprocessing: dict | None = None) -> DataSpec:
        """Sequences of at most `max_length` tokens (<eos> included) of `vocabulary`."""
        return cls(
            "sequence",
            (int(max_length),),
            "tokens",
            len(vocabulary),
            vocabulary=vocabulary,
            preprocessing=preprocessing or {},
        )

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str, where: str = "spec.json") -> DataSpec:
        """The spec written by `to_json`; a RunError naming `where` for anything else."""
        try:
            raw = json.loads(text)
            columns = tuple(_column(c) for c in raw.get("columns", ()))
            label = _column(raw["label"]) if raw.get("label") else None
            vocabulary = _vocabulary(raw["vocabulary"]) if raw.get("vocabulary") else None
            spec = cls(
                kind=str(raw["kind"]),
                event_shape=tuple(int(s) for s in raw["event_shape"]),
                support=str(raw["support"]),
                levels=None if raw.get("levels") is None else int(raw["levels"]),
                columns=columns,
                label=label,
                vocabulary=vocabulary,
                preprocessing=dict(raw.get("preprocessing") or {}),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RunError(f"'{where}' is not a valid data spec ({exc}). The run directory is damaged.") from None
        if spec.kind not in KINDS or not spec.event_shape or any(s < 1 for s in spec.event_shape):
            raise RunError(f"'{where}' records an invalid kind or shape ({spec.kind}, {spec.event_shape}).")
        if spec.kind == "table" and spec.event_shape != (len(columns),):
            raise RunError(f"'{where}' records {len(columns)} columns for a shape {spec.event_shape}.")
        if spec.kind == "sequence" and (spec.vocabulary is None or spec.levels != len(spec.vocabulary)):
            raise RunError(f"'{where}' records a sequence kind without a vocabulary of `levels` tokens.")
        return spec


def as_spec(spec: DataSpec | tuple[int, ...]) -> DataSpec:
    """A DataSpec, or images of shape (C, H, W) (a convenience for code that builds a model or head by hand)."""
    return spec if isinstance(spec, DataSpec) else DataSpec.image(tuple(spec))


def _column(raw: dict) -> Column:
    column = Column(
        name=str(raw["name"]),
        type=str(raw["type"]),
        categories=tuple(str(c) for c in raw.get("categories", ())),
        mean=float(raw.get("mean", 0.0)),
        std=float(raw.get("std", 1.0)),
        dtype=str(raw.get("dtype", "float64")),
    )
    if column.type not in COLUMN_TYPES or not (column.std > 0 and math.isfinite(column.std)):
        raise ValueError(f"column {column.name!r}: type {column.type!r}, std {column.std}")
    if column.type in ("binary", "categorical") and len(column.categories) < (2 if column.type == "binary" else 1):
        raise ValueError(f"column {column.name!r} has categories {column.categories}")
    return column


def _vocabulary(raw: dict) -> Vocabulary:
    vocabulary = Vocabulary(
        tokens=tuple(str(t) for t in raw["tokens"]),
        tokenizer=str(raw.get("tokenizer", "word")),
        tokenizer_json=None if raw.get("tokenizer_json") is None else str(raw["tokenizer_json"]),
        lowercase=bool(raw.get("lowercase", False)),
    )
    if vocabulary.tokens[: len(SPECIALS)] != SPECIALS or vocabulary.tokenizer not in TOKENIZERS:
        raise ValueError(f"vocabulary starts {vocabulary.tokens[:4]} with tokenizer {vocabulary.tokenizer!r}")
    if len(set(vocabulary.tokens)) != len(vocabulary.tokens):
        raise ValueError("vocabulary has a token twice")
    return vocabulary
