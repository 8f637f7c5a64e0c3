"""The functions a kind of data provides to write and describe its examples."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from vaekit.spec import DataSpec


@dataclass(frozen=True)
class View:
    """What differs by kind in writing and describing examples.

    write_examples(spec, x (N, *event_shape), path, columns): save examples as the path's suffix says; `columns`
        (a table: extra leading columns such as the step of an interpolation, {name: (N,) values}).
    write_pairs(spec, x, reconstructions, path): inputs beside their reconstructions.
    shape_text(spec): one example's shape in words ("1x28x28", "13 columns").
    summary_lines(data) / data_warnings(data, batch_size, mlp=...): the load summary of `vaekit train`.
    """

    kind: str
    suffixes: tuple[str, ...]  # what --out of sample, reconstruct, interpolate and traverse may end in
    samples_file: str  # the file of samples in a run directory
    write_examples: Callable[..., None]
    write_pairs: Callable[[DataSpec, torch.Tensor, torch.Tensor, Path], str]
    shape_text: Callable[[DataSpec], str]
    summary_lines: Callable
    data_warnings: Callable
