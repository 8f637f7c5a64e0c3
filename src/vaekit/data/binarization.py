"""data.binarize and dequantization, decided in one place: what every stage (training, test metrics, evaluation,
the prior's codes) does to the images of a run.

    none     the images as loaded
    static   one fixed Bernoulli draw of the whole data set, from train.seed, at load time
    dynamic  a fresh draw for every batch (Burda et al. 2016), from the stage's generator

A density likelihood (`gaussian`) on pixels that take `levels` values also sees every batch dequantized: uniform
noise within each pixel's bin (vaekit.discretized.dequantize), in training and in evaluation alike, so that its
log-density plus D log(bin width) bounds the log-probability of the integer pixels (Theis et al. 2016).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vaekit.config import Config
from vaekit.data.arrays import binarize
from vaekit.discretized import dequantize


@dataclass(frozen=True)
class Binarization:
    mode: str  # none | static | dynamic
    seed: int  # the static draw's seed
    dequantize_levels: int | None = None  # L: add uniform noise within each of the L values' bins; None: do not

    @classmethod
    def of(cls, config: Config, dequantize_levels: int | None = None) -> Binarization:
        return cls(config.data.binarize, config.train.seed, dequantize_levels)

    def at_load(self, train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The splits as every stage sees them before batching: static draws its fixed binarization here."""
        if self.mode != "static":
            return train, test
        g = torch.Generator().manual_seed(self.seed)
        return binarize(train, g), binarize(test, g)

    @property
    def per_batch(self):
        """The transform (x, generator) -> x applied to each batch, or None: a fresh binarization when dynamic,
        then the dequantization noise when there is one."""
        return self.draw if self.mode == "dynamic" or self.dequantize_levels else None

    def draw(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """x as one batch of training sees it: binarized when dynamic, dequantized when asked, else x itself."""
        if self.mode == "dynamic":
            x = binarize(x, generator)
        if self.dequantize_levels:
            x = dequantize(x, self.dequantize_levels, generator)
        return x
