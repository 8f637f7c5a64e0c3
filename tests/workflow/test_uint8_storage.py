"""8-bit data held as uint8 codes train exactly as the same data held as float32: the per-batch conversion is
the division the load used to do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from tiny_configs import TINY_VAE_RUN
from vaekit.config import load_config
from vaekit.data import load_data
from vaekit.workflow.training import train


def _train(source: Path, out: Path, *extra: str) -> dict[str, torch.Tensor]:
    train(load_config(overrides=[f"data.source={source}", *TINY_VAE_RUN, *extra]), out)
    return load_file(str(out / "model.safetensors"))


def test_uint8_and_float32_storage_train_to_identical_weights(tmp_path: Path) -> None:
    codes = np.random.default_rng(0).integers(0, 256, size=(96, 6, 6), dtype=np.uint8)
    floats = codes.astype(np.float32) / np.float32(255)
    np.save(tmp_path / "u8.npy", codes)
    np.save(tmp_path / "f32.npy", floats)
    held = load_data(str(tmp_path / "u8.npy")), load_data(str(tmp_path / "f32.npy"))
    assert held[0].train.dtype == torch.uint8 and held[1].train.dtype == torch.float32
    assert held[0].train.element_size() * 4 == held[1].train.element_size()
    for extra in ((), ("data.binarize=dynamic",)):
        a = _train(tmp_path / "u8.npy", tmp_path / f"u8{len(extra)}", *extra)
        b = _train(tmp_path / "f32.npy", tmp_path / f"f32{len(extra)}", *extra)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
