"""What the report and the explorer both show of a run: its data, its latent dimensions ranked, images as PNG URIs.

Everything here asks the run for capabilities (`Run.capabilities`), never the model for attributes.
"""

from __future__ import annotations

import base64
import copy
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vaekit.evaluate.diagnostics import COLLAPSE_NATS, active_units, mean_kl_per_dim
from vaekit.plotting import auto_scale, image_grid
from vaekit.run import Run
from vaekit.workflow.data import load_run_data

# A dimension whose KL (nats, averaged over the data) is below this carries no information about x: collapsed.
COLLAPSED_KL = COLLAPSE_NATS
# Without a per-dimension KL, Burda et al. 2016's active-unit criterion: Var_x E_q[z_d|x] below this is inactive.
INACTIVE_VARIANCE = 0.01


@dataclass
class SplitData:
    """A split of a run's data as the run sees it: images (N, C, H, W), its conditioning, and class labels (N,)."""

    x: torch.Tensor
    cond: dict[str, torch.Tensor]  # {"y": (N,)} for a model with `labels`, else {}
    labels: torch.Tensor | None  # the data's class labels (colours on the map), conditioned on or not


def load_split(run: Run, split: str = "test", limit: int | None = None) -> SplitData:
    """The first `limit` images of a split of the run's own data (binarized at load as in training)."""
    # a copy: loading may fill in config fields; the run's spec: a table is read as in training, never refitted
    data = load_run_data(copy.deepcopy(run.config), run.device, run.spec)
    x, cond = data.split(split)
    labels = data.data.train_labels if split == "train" else data.data.test_labels
    x = run.check_data(x, source=f"data '{run.config.data.source}'")
    if limit is not None:
        x, cond = x[:limit], {k: v[:limit] for k, v in cond.items()}
        labels = None if labels is None else labels[:limit]
    return SplitData(x, cond, labels)


@dataclass
class LatentRanking:
    """The latent dimensions of a `latent_vector` model, ranked by how much they carry.

    score[d]: the mean KL of dimension d in nats (`kind` "kl", models with `kl_per_dim`), else the variance of its
    posterior means over the data (`kind` "variance", Burda et al.'s active units). order: dimensions by decreasing
    score. collapsed[d]: the score is under COLLAPSED_KL (or INACTIVE_VARIANCE).
    """

    kind: str
    score: list[float]
    order: list[int]
    collapsed: list[bool]
    low: list[float]  # a slider range per dimension: the prior's [-3, 3], widened to the data's posterior means
    high: list[float]


@torch.no_grad()
def rank_latents(run: Run, data: SplitData, means: torch.Tensor) -> LatentRanking:
    """Rank the dimensions of posterior means (N, D) of `data` (a model with `latent_vector`)."""
    run.require("latent_vector", "ranking latent dimensions")
    if "kl_per_dim" in run.capabilities:
        score = mean_kl_per_dim(run.model, data.x, run.config.eval.batch_size, data.cond)  # (D,)
        kind, threshold = "kl", COLLAPSED_KL
    else:
        _, score = active_units(means, INACTIVE_VARIANCE)  # (D,)
        kind, threshold = "variance", INACTIVE_VARIANCE
    values = [float(v) for v in score]
    order = sorted(range(len(values)), key=lambda d: -values[d])
    low = torch.quantile(means.double(), 0.005, dim=0).clamp(max=-3.0)  # (D,)
    high = torch.quantile(means.double(), 0.995, dim=0).clamp(min=3.0)
    return LatentRanking(kind, values, order, [v < threshold for v in values], low.tolist(), high.tolist())


def png_uri(array: np.ndarray) -> str:
    """A data: URI of a PNG of an image array (H, W) or (H, W, 3) uint8."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def images_uri(images: torch.Tensor, nrow: int | None = None, pad: int = 2) -> str:
    """A PNG data: URI of images (N, C, H, W) in [0, 1] tiled in a grid, small images scaled up to ~28 pixels."""
    return png_uri(image_grid(images, nrow=nrow, pad=pad, scale=auto_scale(images.shape[-2])))


def figure_uri(fig) -> str:
    """A PNG data: URI of a matplotlib figure."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def bar_chart(values: list[float], labels: list[str], title: str, ylabel: str):
    """A bar chart of one value per label: a matplotlib Figure (not saved)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(4.0, 0.25 * len(values) + 1.5), 3.0), dpi=90, layout="constrained")
    ax = fig.add_subplot()
    ax.bar(range(len(values)), values, color="tab:blue")
    if len(labels) <= 64:
        ax.set_xticks(range(len(values)), labels, fontsize=7)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    return fig


def json_reports(path: Path) -> list[dict]:
    """The reports written into a run directory (`vaekit evaluate ... --out RUN/x.json`), newest first: each JSON
    object with a `num_examples`, `num_synthetic` or `num_molecules` key, with its file name added as `file`."""
    found = []
    for file in sorted(path.glob("*.json"), key=lambda f: -f.stat().st_mtime):
        try:
            data = json.loads(file.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and any(k in data for k in ("num_examples", "num_synthetic", "num_molecules")):
            found.append({"file": file.name, **data})
    return found
