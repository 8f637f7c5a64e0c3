"""data.binarize and dequantization, decided in one place: what every stage (training, test metrics, evaluation,
the prior's codes) does to the images of a run.

    none     the images as loaded
    static   one fixed Bernoulli draw of the whole data set, from train.seed, at load time
    dynamic  a fresh draw for every batch (Burda et al. 2016), from the stage's generator

Images held as uint8 codes (8-bit or binary sources, `vaekit.data.arrays.store_images`) are converted to float32
here too, batch by batch on the device (`codes_levels`), so the whole data set is never held as float32.

A density likelihood (`gaussian`) on pixels that take `levels` values also sees every batch dequantized: uniform
noise within each pixel's bin (vaekit.discretized.dequantize), in training and in evaluation alike, so that its
log-density plus D log(bin width) bounds the log-probability of the integer pixels (Theis et al. 2016).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vaekit.config import Config
from vaekit.data.arrays import binarize
from vaekit.data.types import to_unit
from vaekit.discretized import dequantize


@dataclass(frozen=True)
class Binarization:
    mode: str  # none | static | dynamic
    seed: int  # the static draw's seed
    dequantize_levels: int | None = None  # L: add uniform noise within each of the L values' bins; None: do not
    codes_levels: int | None = None  # the stored images are uint8 codes of this many levels; None: float32

    @classmethod
    def of(cls, config: Config, dequantize_levels: int | None = None, codes_levels: int | None = None) -> Binarization:
        """`codes_levels`: the levels of the data's uint8 codes as loaded (a static draw stores 0/1 codes)."""
        if config.data.binarize == "static":
            codes_levels = 2
        return cls(config.data.binarize, config.train.seed, dequantize_levels, codes_levels)

    def at_load(self, train: torch.Tensor, test: torch.Tensor, levels: int | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The splits as stored for every stage, given as loaded (uint8 codes of `levels`, or float32): static
        draws its fixed binarization here and keeps it as 0/1 codes."""
        if self.mode != "static":
            return train, test
        g = torch.Generator().manual_seed(self.seed)
        return tuple(binarize(to_unit(x, levels), g).to(torch.uint8) for x in (train, test))  # type: ignore[return-value]

    def to_float(self, x: torch.Tensor) -> torch.Tensor:
        """Stored images as float32 in [0, 1], before any per-batch draw."""
        return to_unit(x, self.codes_levels)

    @property
    def per_batch(self):
        """The transform (x, generator) -> x applied to each batch, or None: uint8 codes made float32, a fresh
        binarization when dynamic, then the dequantization noise when there is one."""
        return self.draw if self.mode == "dynamic" or self.dequantize_levels or self.codes_levels else None

    def draw(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """x as one batch of training sees it: binarized when dynamic, dequantized when asked, else x itself."""
        x = self.to_float(x)
        if self.mode == "dynamic":
            x = binarize(x, generator)
        if self.dequantize_levels:
            x = dequantize(x, self.dequantize_levels, generator)
        return x
