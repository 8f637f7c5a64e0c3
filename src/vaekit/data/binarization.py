"""data.binarize, decided in one place: what every stage (training, test metrics, evaluation, the prior's codes)
does to the images of a run.

    none     the images as loaded
    static   one fixed Bernoulli draw of the whole data set, from train.seed, at load time
    dynamic  a fresh draw for every batch (Burda et al. 2016), from the stage's generator
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vaekit.config import Config
from vaekit.data.arrays import binarize


@dataclass(frozen=True)
class Binarization:
    mode: str  # none | static | dynamic
    seed: int  # the static draw's seed

    @classmethod
    def of(cls, config: Config) -> Binarization:
        return cls(config.data.binarize, config.train.seed)

    def at_load(self, train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The splits as every stage sees them before batching: static draws its fixed binarization here."""
        if self.mode != "static":
            return train, test
        g = torch.Generator().manual_seed(self.seed)
        return binarize(train, g), binarize(test, g)

    @property
    def per_batch(self):
        """The transform (x, generator) -> x applied to each batch, or None: a fresh draw when dynamic."""
        return binarize if self.mode == "dynamic" else None

    def draw(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """x as one batch of training sees it: a draw from `generator` when dynamic, else x itself."""
        return binarize(x, generator) if self.mode == "dynamic" else x
