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
# Inputs (C x H x W) beyond which an MLP encoder is mostly weights on single pixels: 64x64 grayscale. Raw Omniglot
# (105x105 = 11025 inputs) trained this way reached a test -ELBO of 1535.87 nats in 3 epochs, against 144.22 resized to
# 28x28 (as reported in issue 27).
MLP_MAX_INPUTS = 4096
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
        f"({'light' if bg >= 0.5 else 'dark'}); {labels_note(data)}; transforms: {info.transforms if info else 'none'}"
        f"{''.join(f'; {note}' for note in info.notes) if info else ''}; {where} as "
        f"{'uint8' if x.dtype == torch.uint8 else 'float32'} ({stored / 2**20:,.1f} MiB)"
    )
    return [first, second]


def labels_note(data: ImageData) -> str:
    """The labels found: how many classes, and which values (a conditional model needs them; the map colours)."""
    if data.train_labels is None:
        return "no labels"
    values = torch.cat([data.train_labels, data.test_labels]).unique()  # sorted
    low, high = int(values[0]), int(values[-1])
    span = f"{low}..{high}" if len(values) == high - low + 1 else f"{len(values)} values from {low} to {high}"
    return f"labels {span} ({len(values)} classes)"


def data_warnings(data: ImageData, batch_size: int, mlp: bool = False) -> list[str]:
    """Warnings about data that will train or test badly, each with what to do; `mlp`: an MLP reads the images."""
    warnings = list(data.info.warnings) if data.info else []
    steps = math.ceil(len(data.train) / batch_size)
    if steps < MIN_STEPS:
        warnings.append(_few_steps(len(data.train), batch_size, steps))
    if mlp and math.prod(data.shape) > MLP_MAX_INPUTS:
        warnings.append(_large_for_mlp(data.shape))
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


def _few_steps(num: int, batch_size: int, steps: int) -> str:
    what = f"an epoch is {steps} step{'s' * (steps != 1)} ({num} images at batch {batch_size}): the model barely trains"
    largest = num // MIN_STEPS  # the largest batch size that still makes MIN_STEPS steps
    if largest >= 2:
        return (
            f"{what} between evaluations. Use train.batch_size={largest} or smaller ({MIN_STEPS} or more steps an "
            "epoch), more epochs, or more images."
        )
    return (
        f"{what} between evaluations, and {num} images are too few for {MIN_STEPS} steps of more than one image. "
        f"Give more images (at least {2 * MIN_STEPS} for batches of 2), or train more epochs."
    )


def _large_for_mlp(shape: tuple[int, int, int]) -> str:
    c, h, w = shape
    side = 28 if c == 1 else 32  # MNIST's and CIFAR's sizes, which MLP VAEs are known to train on
    return (
        f"the images are {c}x{h}x{w}: {c * h * w:,} inputs to an MLP (model.network.type=mlp), more than the "
        f"{MLP_MAX_INPUTS:,} it trains well on; it will train slowly and model mostly the background. Resize them as "
        f"they load (data.resize={side}: {c * side * side:,} inputs), or use model.network.type=conv."
    )
