"""How examples of each kind of data are written and summarized, looked up by `spec.kind` (one table, `VIEWS`).

image   PNG grids (or .npy arrays (N, C, H, W)); the load summary of vaekit.data.summary
table   CSV/TSV/Parquet with the original columns, units, dtypes and categories (or .npy of the model's numbers);
        the column summary of vaekit.data.tables
sequence  text, one example a line (.txt) or a `text` column (CSV/TSV/Parquet), decoded with the run's tokenizer;
        the load summary of vaekit.data.sequences (examples, tokens, vocabulary, <unk>, truncation, padding)
"""

from __future__ import annotations

from vaekit.spec import DataSpec
from vaekit.views.base import View
from vaekit.views.images import IMAGE_VIEW
from vaekit.views.sequences import SEQUENCE_VIEW
from vaekit.views.tables import TABLE_VIEW

VIEWS: dict[str, View] = {"image": IMAGE_VIEW, "table": TABLE_VIEW, "sequence": SEQUENCE_VIEW}


def view_of(spec: DataSpec) -> View:
    """The view of data `spec`."""
    return VIEWS[spec.kind]


__all__ = ["VIEWS", "View", "view_of"]
