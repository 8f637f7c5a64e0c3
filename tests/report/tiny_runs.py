"""Tiny runs on the bundled digits (8x8, labelled, no download) that the report and explorer tests share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from tiny_configs import TINY_PRIOR, TINY_VQ
from vaekit.cli.main import main
from vaekit.config import load_config
from vaekit.workflow.training import train

COMMON = [
    "data.source=digits",
    "train.epochs=2",
    "train.batch_size=128",
    "train.progress=false",
    "train.num_sample_images=4",
]
MODELS = {
    "vae": ["model.latent_dim=4", "model.network.hidden=[32]"],
    "cvae": ["model.type=cvae", "model.latent_dim=3", "model.network.hidden=[32]"],
    "hvae": [
        "model.type=hvae",
        "model.latent_dim=3",
        "model.network.hidden=[16]",
        "model.hierarchy.upper_dims=[2]",
        "model.hierarchy.hidden=[8]",
    ],
    "vqvae": [*TINY_VQ, *TINY_PRIOR, "prior.epochs=1", "prior.batch_size=128"],
}
_made: dict[tuple[Path, str], Path] = {}


def tiny_run(root: Path, kind: str) -> Path:
    """The run directory of a tiny `kind` run under root, trained once per root (a VQ-VAE with its prior)."""
    key = (root, kind)
    if key not in _made:
        out = root / kind
        overrides = [*COMMON, *MODELS[kind]]
        if kind == "vqvae":  # its training is the slowest: a few hundred digits, unlabelled, are enough
            file = root / "digits300.npy"
            np.save(file, (load_digits().images[:300] * 255 / 16).round().astype(np.uint8))  # (300, 8, 8)
            overrides.append(f"data.source={file}")
        train(load_config(overrides=overrides), out)
        if kind == "vqvae":
            assert main(["train-prior", str(out)]) == 0
        _made[key] = out
    return _made[key]
