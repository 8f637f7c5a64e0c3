"""Pictures: image grids as arrays and matplotlib figures (saved by the caller: the CLI)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from vaekit.atomic import atomic_write


def image_grid(images: torch.Tensor, nrow: int | None = None, pad: int = 2, scale: int = 1) -> np.ndarray:
    """Tile images (N, C, H, W) with values in [0, 1] into one uint8 array (rows, cols) or (rows, cols, 3).

    `nrow` is the number of images per row (default: a square-ish grid); `scale` repeats pixels so that
    small images (8x8 digits) stay visible.
    """
    images = images.detach().to("cpu", torch.float32).clamp(0, 1)
    n, c, h, w = images.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    ncol_rows = math.ceil(n / nrow)
    grid = torch.ones(c, ncol_rows * (h + pad) + pad, nrow * (w + pad) + pad)  # white gutters
    for i in range(n):
        r, col = divmod(i, nrow)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[:, top : top + h, left : left + w] = images[i]
    if scale > 1:
        grid = grid.repeat_interleave(scale, 1).repeat_interleave(scale, 2)
    array = (grid * 255).round().to(torch.uint8).numpy()
    return array[0] if c == 1 else array.transpose(1, 2, 0)


def auto_scale(height: int) -> int:
    """A pixel repeat factor that makes images at least about 28 pixels high."""
    return max(1, math.ceil(28 / height))


def save_png(array: np.ndarray, path) -> None:
    """Write an image array (H, W) or (H, W, 3) uint8 as PNG, atomically."""
    from PIL import Image

    atomic_write(path, lambda tmp: Image.fromarray(array).save(tmp, format="PNG"))


def kl_bar_chart(kl_per_dim: Sequence[float], title: str = "KL per latent dimension"):
    """A bar chart of KL(q(z_d|x) || p(z_d)) per latent dimension d, in nats: a matplotlib Figure (not saved).

    Dimensions near 0 are unused (collapsed to the prior); the tall bars are the ones worth traversing.
    """
    from matplotlib.figure import Figure  # imported here: matplotlib is slow to import

    kl = [float(v) for v in kl_per_dim]
    fig = Figure(figsize=(max(4.0, 0.4 * len(kl) + 1.5), 3.0), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.bar(range(len(kl)), kl, color="tab:blue")
    ax.set_xticks(range(len(kl)), [f"z{d}" for d in range(len(kl))], fontsize=8 if len(kl) <= 32 else 5)
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("KL (nats)")
    ax.set_title(f"{title}: {sum(kl):.2f} nats in all", fontsize=10)
    return fig


def save_figure(fig, path) -> None:
    """Write a matplotlib figure as PNG, atomically."""
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
