"""Images of any size through stride-2 stages: pad to the next multiple of 2**stages, crop the decoder back.

A 4x4 convolution with stride 2 and padding 1 halves an even side exactly; a transposed one doubles it. So an
encoder of `stages` such convolutions and its mirrored decoder return the size they were given only when both
sides divide by 2**stages. StridedGrid pads the encoder's input up to that multiple (zeros, split evenly on
both sides) and crops the decoder's output back to the image, so 105x105, 27x27 or 1x1 images work with any
number of stages; when the sides already divide, padding and cropping do nothing and the network is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def _split(total: int) -> tuple[int, int]:
    """`total` pixels of padding as (before, after), the extra one after."""
    return total // 2, total - total // 2


@dataclass(frozen=True)
class StridedGrid:
    """The sizes of an image of sides (height, width) through `stages` stride-2 stages.

    Args:
        height, width: the image's sides, at least 1.
        stages: the number of stride-2 stages (0 leaves the image as it is).
    """

    height: int
    width: int
    stages: int

    def __post_init__(self) -> None:
        if self.height < 1 or self.width < 1 or self.stages < 0:
            raise ValueError(
                f"a strided grid needs positive image sides and stages >= 0, got {self.height}x{self.width} "
                f"and {self.stages} stages."
            )

    @property
    def factor(self) -> int:
        """2**stages: how much the stages shrink each side."""
        return 2**self.stages

    @property
    def padded(self) -> tuple[int, int]:
        """(H', W'): the sides rounded up to a multiple of `factor`."""
        return (-(-self.height // self.factor) * self.factor, -(-self.width // self.factor) * self.factor)

    @property
    def map_size(self) -> tuple[int, int]:
        """(h, w) = (H'/factor, W'/factor): the feature map after the last stage."""
        padded_h, padded_w = self.padded
        return padded_h // self.factor, padded_w // self.factor

    def _margins(self) -> tuple[int, int, int, int]:
        """(left, right, top, bottom) padding, in F.pad's order."""
        padded_h, padded_w = self.padded
        return (*_split(padded_w - self.width), *_split(padded_h - self.height))

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """(..., C, H, W) -> (..., C, H', W') with zeros around the image; x itself when nothing is needed."""
        if tuple(x.shape[-2:]) != (self.height, self.width):
            raise ValueError(
                f"the network was built for {self.height}x{self.width} images but got {x.shape[-2]}x{x.shape[-1]}."
            )
        margins = self._margins()
        return F.pad(x, margins) if any(margins) else x

    def crop(self, x: torch.Tensor) -> torch.Tensor:
        """(..., C, H', W') -> (..., C, H, W): the inverse of `pad`; x itself when nothing was padded."""
        if tuple(x.shape[-2:]) != self.padded:
            raise ValueError(
                f"expected a {self.padded[0]}x{self.padded[1]} map to crop, got {x.shape[-2]}x{x.shape[-1]}."
            )
        left, _, top, _ = self._margins()
        if self.padded == (self.height, self.width):
            return x
        return x[..., top : top + self.height, left : left + self.width]
