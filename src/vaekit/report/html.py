"""The report's HTML pieces: escaping, pictures, key-value tables and tables of rows."""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from vaekit.plotting import kl_bar_chart
from vaekit.report.views import LatentRanking, figure_uri


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def img(uri: str, alt: str, cls: str = "") -> str:
    return f'<img src="{uri}" alt="{esc(alt)}" class="{cls}">'


def table(rows: list[tuple[str, object]]) -> str:
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(fmt(v))}</td></tr>" for k, v in rows)
    return f'<table class="kv">{cells}</table>'


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if math.isfinite(value) and abs(value) < 1e6 else f"{value:g}"
    if isinstance(value, list):
        return ", ".join(fmt(v) for v in value) if len(value) <= 64 else f"[{len(value)} values]"
    return str(value)


def rows_table(frame: pd.DataFrame, cls: str = "rows") -> str:
    """A DataFrame as an HTML table, numbers to 4 significant digits (the column names as its header)."""

    def cell(v) -> str:
        return f"{v:.4g}" if isinstance(v, float | np.floating) else str(v)

    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(cell(v))}</td>" for v in row) + "</tr>" for row in frame.itertuples(index=False)
    )
    return f'<div class="scroll"><table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def kl_section(ranking: LatentRanking) -> list[tuple[str, str]]:
    """The bar chart of the KL per latent dimension, for a model that has one (no section otherwise)."""
    if ranking.kind != "kl":
        return []
    return [("KL per latent dimension", img(figure_uri(kl_bar_chart(ranking.score)), "KL per dimension"))]
