"""Tables: CSV/TSV/Parquet files with the original columns, units, dtypes and categories; rows as the explorer shows
them (JSON in the original units, a bar per column)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vaekit.atomic import atomic_save_npy
from vaekit.data.tables import decode_rows, summary_lines, table_warnings, write_table
from vaekit.spec import DataSpec
from vaekit.views.base import View

# The model's numbers are clamped here before decoding for the page: a decoder far out in z (|z| up to the explorer's
# bound) can give count rates that overflow float32, and an infinite value has no int64 and no JSON.
MAX_SHOWN = 1e12


def write_rows(spec: DataSpec, x: torch.Tensor, out: Path, columns: dict | None = None, nrow=None) -> None:
    """Rows x (N, D) in the model's numbers, written in the table's own units (a .npy keeps the model's numbers)."""
    if out.suffix.lower() == ".npy":
        array = x.detach().cpu().numpy()
        atomic_save_npy(out, array)
        return
    frame = decode_rows(x, spec)
    for i, (name, values) in enumerate((columns or {}).items()):
        frame.insert(i, name, np.asarray(values))
    write_table(frame, out)


def write_pairs(spec: DataSpec, x: torch.Tensor, recon: torch.Tensor, out: Path) -> str:
    """Each input row followed by its reconstruction, told apart by the columns `row` and `version`."""
    n = x.shape[0]
    both = torch.stack([x, recon], 1).flatten(0, 1)  # (2N, D): input, reconstruction, input, ...
    extra = {"row": np.repeat(np.arange(n), 2), "version": np.tile(np.array(["input", "reconstruction"]), n)}
    write_rows(spec, both, out, extra)
    return "each followed by its reconstruction (columns row, version)"


def rows_json(spec: DataSpec, x: torch.Tensor) -> list[dict]:
    """Rows x (N, D) in the model's numbers as JSON objects {column: value} in the original units: numbers as numbers,
    categories by name."""
    x = x.detach().double().nan_to_num(0.0, MAX_SHOWN, -MAX_SHOWN).clamp(-MAX_SHOWN, MAX_SHOWN)
    records = decode_rows(x, spec).to_dict("records")
    return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()} for row in records]


def column_ranges(spec: DataSpec, x: torch.Tensor) -> list[tuple[float, float] | None]:
    """(min, max) of each real and count column of rows x (N, D) in the original units (None for the others): the
    ends of the explorer's bars."""
    frame = decode_rows(x, spec)
    return [
        (float(frame[c.name].min()), float(frame[c.name].max())) if c.type in ("real", "count") and len(frame) else None
        for c in spec.columns
    ]


@torch.no_grad()
def category_probabilities(px_z, spec: DataSpec, point: torch.Tensor) -> list[torch.Tensor | None]:
    """p(x_j = k | z) of each binary and categorical column j: (N, K) per column, None for real and count columns.

    px_z: p(x|z) of N latent vectors (a MixedColumns, batch (N,)); point: its point values (N, D). Each category k is
    put in column j of the point rows and scored with `column_log_prob`, which needs nothing but the likelihood's
    public contract.
    """
    out: list[torch.Tensor | None] = []
    for j, column in enumerate(spec.columns):
        if column.type not in ("binary", "categorical"):
            out.append(None)
            continue
        k = len(column.categories)
        rows = point.unsqueeze(0).repeat(k, 1, 1)  # (K, N, D)
        rows[..., j] = torch.arange(k, dtype=point.dtype, device=point.device).unsqueeze(1)
        out.append(px_z.column_log_prob(rows)[..., j].exp().T)  # (K, N) -> (N, K)
    return out


def column_bars(spec: DataSpec, row: dict, probabilities: list, ranges: list) -> list[dict]:
    """What the explorer draws beside one decoded row: for a real or count column, where its value lies between the
    test split's min and max (`position` 0 to 1, beyond them outside); for a binary or categorical one, the
    probability of each category (`probabilities`, in the column's category order)."""
    bars = []
    for column, probs, span in zip(spec.columns, probabilities, ranges, strict=True):
        bar: dict = {"name": column.name, "type": column.type}
        if probs is not None:
            bar["probabilities"] = [round(float(p), 4) for p in probs]
        elif span is not None:
            low, high = span
            bar.update(low=low, high=high, position=(float(row[column.name]) - low) / max(high - low, 1e-12))
        bars.append(bar)
    return bars


TABLE_VIEW = View(
    kind="table",
    suffixes=(".csv", ".tsv", ".parquet", ".npy"),
    samples_file="samples.csv",
    write_examples=write_rows,
    write_pairs=write_pairs,
    shape_text=lambda spec: f"{spec.event_shape[0]} columns",
    summary_lines=summary_lines,
    data_warnings=table_warnings,
)

__all__ = ["TABLE_VIEW"]
