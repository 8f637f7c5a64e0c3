"""Fill in the missing cells of a table file with a trained run, and write the completed file (`vaekit impute`).

A CSV/TSV written from a CSV/TSV keeps the text of every cell it does not fill in, byte for byte (the filled cells
are written as write_table writes values); other formats are written from the typed table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from vaekit.atomic import atomic_write
from vaekit.data.tables import TEXT, fill_text, read_cells_text, read_frame, write_table
from vaekit.errors import DataError
from vaekit.run import DRAW_COLUMN, Run

IMPUTE_SOURCES = (".csv", ".tsv", ".parquet", ".pq", ".npy")
IMPUTE_OUTPUTS = (".csv", ".tsv", ".parquet", ".pq")


@dataclass(frozen=True)
class ImputedFile:
    """What `impute_file` did."""

    rows: int
    missing_cells: int  # cells of the run's columns that were missing, and are filled in
    missing_by_column: dict[str, int]
    draws: int  # 0: single imputation


def read_incomplete(run: Run, source: str) -> pd.DataFrame:
    """A table file with missing cells, read as the run read its data (its markers of a missing cell)."""
    path = Path(source).expanduser()
    if path.suffix.lower() not in IMPUTE_SOURCES or not path.is_file():
        raise DataError(
            f"--data '{source}' must be an existing {', '.join(IMPUTE_SOURCES)} file: the table whose missing cells "
            "are filled in."
        )
    return read_frame(path, run.spec.preprocessing.get("missing_values", ()))


def _write(table: pd.DataFrame, out: Path) -> None:
    if out.suffix.lower() in TEXT:  # text cells as they are (no float formatting of a text table's cells)
        sep = "\t" if out.suffix.lower() == ".tsv" else ","
        atomic_write(out, lambda tmp: table.to_csv(tmp, sep=sep, index=False))
    else:
        write_table(table, out)


def impute_file(
    run: Run,
    source: str,
    out: Path,
    *,
    num_samples: int = 1000,
    num_draws: int = 0,
    seed: int = 0,
    spread_out: Path | None = None,
) -> ImputedFile:
    """Fill in the missing cells of the table file `source` and write it to `out`: single imputation, or with
    `num_draws` M the M completions one after the other, told apart by a first column `draw`, and (`spread_out`) the
    spread of each cell's draws."""
    frame = read_incomplete(run, source)
    names = run.spec.column_names()
    gaps = frame.rename(columns=str)[[n for n in names if n in frame.columns]].isna()
    generator = torch.Generator(device=run.device).manual_seed(seed)
    if num_draws:
        result = run.impute_draws(frame, num_draws, num_samples, generator, source=source)
        filled = [t.drop(columns=DRAW_COLUMN).reset_index(drop=True) for _, t in result.draws.groupby(DRAW_COLUMN)]
    else:
        filled = [run.impute(frame, num_samples, generator, source=source)]
    path = Path(source).expanduser()
    if path.suffix.lower() in TEXT and out.suffix.lower() in TEXT:  # every other cell keeps its text
        cells = read_cells_text(path)
        filled = [fill_text(cells, table, gaps) for table in filled]
    if num_draws:
        for m, table in enumerate(filled):
            table.insert(0, DRAW_COLUMN, m)
        table = pd.concat(filled, ignore_index=True)
    else:
        table = filled[0]
    _write(table, out)
    if num_draws and spread_out is not None:
        write_table(result.spread, spread_out)
    by_column = {n: int(gaps[n].sum()) for n in gaps.columns}
    return ImputedFile(len(frame), sum(by_column.values()), by_column, num_draws)
