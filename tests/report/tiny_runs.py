"""Tiny runs that the report and explorer tests share: on the bundled digits (8x8, labelled, no download), on a
small table made here (people.csv: real, count, binary and categorical columns and a label column), on a small
text file made here (sentences.txt: two templates, one with markup characters that a page must escape), and on a
tiny moses folder made here (SMILES strings, tests/tiny_moses.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

from tiny_configs import TINY_PRIOR, TINY_VQ
from tiny_moses import tiny_moses
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
TABLE = [
    "model.latent_dim=2",
    "model.network.hidden=[16]",
    "model.likelihood.type=columns",
    "model.likelihood.learn_sigma=per_column",
    "data.label=group",
    "data.test_fraction=0.25",
    "train.epochs=4",
    "train.batch_size=16",
    "train.progress=false",
    "train.num_sample_images=4",
]
TABLES = {
    "table": TABLE,
    # beta = 50 drives every latent dimension's KL to ~0: posterior collapse, said out loud by the report
    "table-collapsed": [*TABLE, "objective.beta=50", "train.epochs=20"],
}
RECURRENT = [
    "model.network.type=recurrent",
    "model.likelihood.type=tokens",
    "model.network.cell=gru",
    "model.network.hidden=[16]",
    "model.network.embedding_dim=8",
]
TEXT = [
    "data.test_fraction=0.25",
    "train.epochs=2",
    "train.batch_size=16",
    "train.progress=false",
    "train.num_sample_images=4",
]
TEXTS = {
    "text": [*TEXT, "model.latent_dim=3", *RECURRENT],
    "text-lm": [*TEXT, "model.type=lm", *RECURRENT[2:]],
}
# SMILES read with the smiles tokenizer; trained long enough on its 40 molecules that some decodings are valid
SMILES = [
    "data.source=moses",
    "model.network.type=recurrent",
    "model.network.cell=gru",
    "model.network.hidden=[32]",
    "model.network.embedding_dim=16",
    "model.latent_dim=4",
    "train.epochs=30",
    "train.batch_size=4",
    "train.progress=false",
    "train.num_sample_images=4",
]
_made: dict[tuple[Path, str], Path] = {}


def sentences(n: int = 80) -> list[str]:
    """Two templates of sentences; the second holds <b> and &, which a page shows as text, never as markup."""
    things = ["mat", "hat", "rug", "park", "lake", "tree", "house"]
    return [
        f"the cat sat on the {things[i % 7]}" if i % 2 else f"a <b> dog & a bird ran to the {things[i % 5]} today"
        for i in range(n)
    ]


def people(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """A small table whose columns depend on each other and on its class column 'group'."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n)
    height = rng.normal(170, 8, n) + 12 * (group == "b")
    return pd.DataFrame(
        {
            "height": height.round(2),
            "weight": (0.9 * (height - 100) + rng.normal(0, 4, n)).round(1),
            "visits": rng.poisson(15, n) + np.arange(n) % 12,
            "smoker": rng.choice(["yes", "no"], n),
            "city": rng.choice(["Oslo", "Lima", "Pune"], n),
            "group": group,
        }
    )


def tiny_run(root: Path, kind: str) -> Path:
    """The run directory of a tiny `kind` run under root, trained once per root (a VQ-VAE with its prior)."""
    key = (root, kind)
    if key not in _made:
        out = root / kind
        overrides = [*COMMON, *MODELS[kind]] if kind in MODELS else [*TABLES.get(kind, TEXTS.get(kind, []))]
        if kind == "smiles":
            overrides = [*SMILES, f"data.data_dir={tiny_moses(root / 'smiles-data')}"]
        if kind in TEXTS:
            file = root / "sentences.txt"
            file.write_text("\n".join(sentences()) + "\n")
            overrides.append(f"data.source={file}")
        if kind in TABLES:
            file = root / "people.csv"
            people().to_csv(file, index=False)
            overrides.append(f"data.source={file}")
        if kind == "vqvae":  # its training is the slowest: a few hundred digits, unlabelled, are enough
            file = root / "digits300.npy"
            np.save(file, (load_digits().images[:300] * 255 / 16).round().astype(np.uint8))  # (300, 8, 8)
            overrides.append(f"data.source={file}")
        train(load_config(overrides=overrides), out)
        if kind == "vqvae":
            assert main(["train-prior", str(out)]) == 0
        _made[key] = out
    return _made[key]
