"""Tables in pictures: each column's marginal and the correlations of the numeric columns, real against sampled
(matplotlib Figures, not saved; the report embeds them)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from vaekit.data.tables import decode_column
from vaekit.spec import Column, DataSpec

REAL, SAMPLED = "tab:blue", "tab:orange"
MAX_BARS = 15  # categories drawn at most (the most frequent in the real rows); the rest are counted as "other"
NUMERIC = ("real", "count")


def column_values(spec: DataSpec, x: torch.Tensor) -> list[np.ndarray]:
    """Per column of rows x (N, D): real and count values in the original units, categories as their index, (N_j,):
    the column's observed cells (a missing cell, NaN, is left out)."""
    values = x.detach().double().cpu().numpy()  # (N, D)
    columns = [
        decode_column(values[:, j], c).to_numpy(dtype=np.float64, na_value=np.nan)
        if c.type in NUMERIC
        else np.rint(values[:, j])
        for j, c in enumerate(spec.columns)
    ]
    return [v[~np.isnan(v)] for v in columns]


def numeric_bins(column: Column, real: np.ndarray) -> np.ndarray:
    """Bin edges shared by the real and sampled values: over the real values' range widened by a tenth each side
    (a sampled value far out would otherwise squash the real histogram); whole numbers for a count of few values."""
    low, high = float(real.min()), float(real.max())
    if column.type == "count" and high - low <= 60:
        return np.arange(math.floor(low) - 2, math.ceil(high) + 3) - 0.5
    pad = 0.1 * (high - low) or 0.5
    return np.linspace(low - pad, high + pad, 31)


def marginal_figure(column: Column, real: np.ndarray, sampled: np.ndarray):
    """The marginal of one column, real (N,) against sampled (M,): shared-bin histograms (densities) for a real or
    count column, the share of each category for a binary or categorical one. Values as `column_values` gives them."""
    from matplotlib.figure import Figure  # imported here: matplotlib is slow to import

    fig = Figure(figsize=(3.6, 2.5), dpi=100, layout="constrained")  # ~360 px: the grid cell, not enlarged
    ax = fig.add_subplot()
    if column.type in NUMERIC:
        outside = _histograms(ax, column, real, sampled)
        note = f"; {outside:.0%} of sampled outside" if outside >= 0.005 else ""
    else:
        _category_bars(ax, column, real, sampled)
        note = ""
    ax.set_title(f"{column.name} ({column.type}{note})", fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, frameon=False)
    return fig


def _histograms(ax, column: Column, real: np.ndarray, sampled: np.ndarray) -> float:
    """Draw both histograms; returns the share of sampled values outside the bins."""
    bins = numeric_bins(column, real)
    ax.hist(real, bins=bins, density=True, color=REAL, alpha=0.45, label=f"real ({len(real)})")
    ax.hist(sampled, bins=bins, density=True, histtype="step", color=SAMPLED, lw=1.5, label=f"sampled ({len(sampled)})")
    ax.set_ylabel("density", fontsize=7)
    return float(np.mean((sampled < bins[0]) | (sampled > bins[-1]))) if len(sampled) else 0.0


def _category_bars(ax, column: Column, real: np.ndarray, sampled: np.ndarray) -> None:
    k = len(column.categories)
    share_real = np.bincount(real.astype(int).clip(0, k - 1), minlength=k) / max(len(real), 1)  # (K,)
    share_sampled = np.bincount(sampled.astype(int).clip(0, k - 1), minlength=k) / max(len(sampled), 1)
    names = list(column.categories)
    if k > MAX_BARS:  # the most frequent real categories, the others summed
        keep = np.argsort(-share_real, kind="stable")[: MAX_BARS - 1]
        rest = np.setdiff1d(np.arange(k), keep)
        names = [names[i] for i in keep] + [f"other ({len(rest)})"]
        share_real = np.append(share_real[keep], share_real[rest].sum())
        share_sampled = np.append(share_sampled[keep], share_sampled[rest].sum())
    at = np.arange(len(names))
    ax.bar(at - 0.2, share_real, 0.4, color=REAL, label="real")
    ax.bar(at + 0.2, share_sampled, 0.4, color=SAMPLED, label="sampled")
    long = len(names) > 4 or max(len(n) for n in names) > 6
    ax.set_xticks(
        at,
        [n if len(n) <= 14 else n[:13] + "…" for n in names],
        rotation=35 if long else 0,
        ha="right" if long else "center",
    )
    ax.set_ylabel("share of rows", fontsize=7)


def correlations(frame: pd.DataFrame) -> np.ndarray:
    """Pearson correlations of the columns of `frame` (N, P): (P, P); NaN where a column is constant. With missing
    cells, each pair's correlation is over the rows where both are observed."""
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(values).any():  # missing cells: each pair over the rows where both are observed
        return frame.astype(np.float64).corr().to_numpy()
    centered = values - values.mean(0)
    std = np.sqrt((centered**2).mean(0))  # (P,)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (centered.T @ centered / len(values)) / np.outer(std, std)


def correlation_figure(names: list[str], real: np.ndarray, sampled: np.ndarray):
    """Correlation matrices (P, P) of the real rows and the sampled rows side by side, on one colour scale [-1, 1]."""
    from matplotlib.figure import Figure

    p = len(names)
    side = min(6.0, max(3.6, 0.32 * p + 1.6))
    fig = Figure(figsize=(2 * side + 0.9, side), dpi=90, layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, matrix, title in zip(axes, (real, sampled), ("real (test split)", "sampled"), strict=True):
        image = ax.imshow(matrix, vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_title(title, fontsize=9)
        size = 8 if p <= 16 else 5
        short = [n if len(n) <= 12 else n[:11] + "…" for n in names]
        ax.set_xticks(range(p), short, rotation=90, fontsize=size)
        ax.set_yticks(range(p), short, fontsize=size)
        if p <= 8:  # the numbers themselves, where they fit
            for i in range(p):
                for j in range(p):
                    r = matrix[i, j]
                    dark = not math.isnan(r) and abs(r) > 0.6  # white on the dark ends of the colour scale
                    text = "–" if math.isnan(r) else f"{r:.2f}"
                    ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black")
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="correlation")
    return fig
