"""Images: PNG grids or .npy arrays (N, C, H, W)."""

from __future__ import annotations

from pathlib import Path

import torch

from vaekit.atomic import atomic_save_npy
from vaekit.data.summary import data_warnings, summary_lines
from vaekit.plotting import auto_scale, image_grid, save_png
from vaekit.spec import DataSpec
from vaekit.views.base import View


def write_images(spec: DataSpec, images: torch.Tensor, out: Path, columns: dict | None = None, nrow=None) -> None:
    """Images (N, C, H, W) as a PNG grid (`nrow` per row), or as a .npy array of shape (N, C, H, W)."""
    if out.suffix.lower() == ".npy":
        array = images.detach().cpu().numpy()
        atomic_save_npy(out, array)
    else:
        save_png(image_grid(images, nrow=nrow, scale=auto_scale(images.shape[-2])), out)


def write_pairs(spec: DataSpec, x: torch.Tensor, recon: torch.Tensor, out: Path) -> str:
    """Rows of up to 8 inputs, each above its reconstructions; returns how the picture is laid out."""
    per_row = min(8, x.shape[0])
    rows = [t for i in range(0, x.shape[0], per_row) for t in (x[i : i + per_row], recon[i : i + per_row])]
    write_images(spec, torch.cat(rows), out, nrow=per_row)
    return "above their reconstructions"


IMAGE_VIEW = View(
    kind="image",
    suffixes=(".png", ".npy"),
    samples_file="samples.png",
    write_examples=write_images,
    write_pairs=write_pairs,
    shape_text=lambda spec: "x".join(map(str, spec.event_shape)),
    summary_lines=summary_lines,
    data_warnings=data_warnings,
)
