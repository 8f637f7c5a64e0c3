"""What was loaded, in two lines for the start of `vaekit train`, and warnings about data that will train badly.

data: x.npz: read x.npz['train'] (180, 105, 105) uint8; test held out at random: 0.1 of the images, ...
data: 162 train / 18 test images, 1x64x64, uint8 values 0..255, divided by 255; range [0, 1]; not binary; ...
warning: an epoch is 3 steps (162 images at batch 64): ...
"""

from __future__ import annotations

import math

import torch

from vaekit.data.stream import DiskImages
from vaekit.data.types import ImageData, to_unit

MIN_STEPS = 20  # an epoch of fewer steps barely trains between evaluations
MIN_TEST = 100  # a test split smaller than this gives test metrics too noisy to compare
_BORDER_IMAGES = 1000  # images whose border pixels decide the background


def background(data: ImageData) -> float:
    """The most common border pixel of the first train images, in [0, 1]: the background (0 dark, 1 light)."""
    x = to_unit(data.train[:_BORDER_IMAGES], data.levels)  # (n, C, H, W)
    border = torch.cat([x[..., 0, :], x[..., -1, :], x[..., :, 0], x[..., :, -1]], dim=-1).reshape(-1)
    values, counts = torch.unique((border * 255).round(), return_counts=True)
    return float(values[counts.argmax()]) / 255


def summary_lines(data: ImageData) -> list[str]:
    """Two lines: where the data came from and how they were split; what they are (N, shape, values, storage)."""
    info = data.info
    c, h, w = data.shape
    read = f"read {'; '.join(info.read)}" if info else "built in memory"
    first = f"data: {data.name}: {read}; {info.split if info else 'given splits'}"
    x = data.train
    lo, hi = info.value_range if info and info.value_range else (0.0, 1.0)
    stored = data.train.element_size() * (data.train.numel() + data.test.numel())
    where = "streamed from disk" if isinstance(x, DiskImages) else "held in memory"
    bg = background(data)
    second = (
        f"data: {len(data.train)} train / {len(data.test)} test images, {c}x{h}x{w} "
        f"({'grayscale' if c == 1 else 'RGB'}); {info.values if info else 'float32 in [0, 1]'}; range "
        f"[{lo:.3g}, {hi:.3g}]; {'binary' if data.is_binary else 'not binary'}; "
        f"{f'{data.levels} levels' if data.levels else 'continuous'}; background {bg:.2g} "
        f"({'light' if bg >= 0.5 else 'dark'}); transforms: {info.transforms if info else 'none'}; {where} as "
        f"{'uint8' if x.dtype == torch.uint8 else 'float32'} ({stored / 2**20:,.1f} MiB)"
    )
    return [first, second]


def data_warnings(data: ImageData, batch_size: int) -> list[str]:
    """Warnings about data that will train or test badly, each with what to do."""
    warnings = list(data.info.warnings) if data.info else []
    steps = math.ceil(len(data.train) / batch_size)
    if steps < MIN_STEPS:
        warnings.append(
            f"an epoch is {steps} step{'s' * (steps != 1)} ({len(data.train)} images at batch {batch_size}): the "
            f"model barely trains between evaluations. Use a smaller train.batch_size (at most "
            f"{max(1, len(data.train) // MIN_STEPS)} gives {MIN_STEPS} steps), more epochs, or more images."
        )
    if len(data.test) < MIN_TEST:
        warnings.append(
            f"the test split holds {len(data.test)} images: test metrics will be too noisy to compare runs. Give a "
            f"test split of at least {MIN_TEST} images (or a larger data.test_fraction)."
        )
    bg = background(data) if data.shape[0] == 1 else 0.0
    if bg >= 0.5:
        warnings.append(
            f"the background is light ({bg:.2g}) and the strokes dark: MNIST-style models expect "
            "bright strokes on black. If so, set data.invert=true."
        )
    return warnings
