"""DataSpec: what x is, for every layer. Saved with every run as spec.json (plain JSON, never pickle).

    image   event shape (C, H, W); every pixel binary, one of `levels` values, or real
    table   event shape (D,); one column per dimension: real (standardized with the training split's mean and
            standard deviation), count (non-negative integers), binary (two values) or categorical (K categories,
            held as the category's index)

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
}


@dataclass(frozen=True)
class DataSpec:
    """What x is: its kind, the shape of one example, the support of each dimension, the columns of a table, the
    label column (the conditional VAE's classes) and the preprocessing applied at load (recorded so that every new
    file is read the same way)."""

    kind: str
    event_shape: tuple[int, ...]  # (C, H, W) | (D,)
    support: str  # image: "binary" | "levels" | "real" for every pixel; table: "columns" (each column's type)
    levels: int | None = None  # image: the values a pixel takes (2 binary, 256 8-bit); None: continuous
    columns: tuple[Column, ...] = ()
    label: Column | None = None  # table: the class column kept out of x (categorical)
    preprocessing: dict[str, Any] = field(default_factory=dict)

    @property
    def facts(self) -> Kind:
        return KINDS[self.kind]

    @property
    def num_dims(self) -> int:
        return math.prod(self.event_shape)

    @classmethod
    def image(cls, shape: tuple[int, ...], levels: int | None = None, preprocessing: dict | None = None) -> DataSpec:
        support = "real" if levels is None else ("binary" if levels == 2 else "levels")
        return cls("image", tuple(int(s) for s in shape), support, levels, preprocessing=preprocessing or {})

    @classmethod
    def table(
        cls, columns: tuple[Column, ...], label: Column | None = None, preprocessing: dict | None = None
    ) -> DataSpec:
        return cls("table", (len(columns),), "columns", None, tuple(columns), label, preprocessing or {})

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
            spec = cls(
                kind=str(raw["kind"]),
                event_shape=tuple(int(s) for s in raw["event_shape"]),
                support=str(raw["support"]),
                levels=None if raw.get("levels") is None else int(raw["levels"]),
                columns=columns,
                label=label,
                preprocessing=dict(raw.get("preprocessing") or {}),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RunError(f"'{where}' is not a valid data spec ({exc}). The run directory is damaged.") from None
        if spec.kind not in KINDS or not spec.event_shape or any(s < 1 for s in spec.event_shape):
            raise RunError(f"'{where}' records an invalid kind or shape ({spec.kind}, {spec.event_shape}).")
        if spec.kind == "table" and spec.event_shape != (len(columns),):
            raise RunError(f"'{where}' records {len(columns)} columns for a shape {spec.event_shape}.")
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
