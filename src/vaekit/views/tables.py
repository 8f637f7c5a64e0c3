"""Tables: CSV/TSV/Parquet files with the original columns, units, dtypes and categories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vaekit.atomic import atomic_write
from vaekit.data.tables import decode_rows, summary_lines, table_warnings, write_table
from vaekit.spec import DataSpec
from vaekit.views.base import View


def write_rows(spec: DataSpec, x: torch.Tensor, out: Path, columns: dict | None = None, nrow=None) -> None:
    """Rows x (N, D) in the model's numbers, written in the table's own units (a .npy keeps the model's numbers)."""
    if out.suffix.lower() == ".npy":
        array = x.detach().cpu().numpy()
        atomic_write(out, lambda tmp: np.save(open(tmp, "wb"), array))
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
