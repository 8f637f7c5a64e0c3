"""Small shared layers."""

from __future__ import annotations

import torch
from torch import nn

from vaekit.errors import ConfigError

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


def at_least_float32(t: torch.Tensor) -> torch.Tensor:
    """t in float32, or wider: distribution parameters leave bf16 autocast here, float64 stays float64."""
    return t.to(torch.promote_types(t.dtype, torch.float32))


def activation(name: str) -> nn.Module:
    if name not in _ACTIVATIONS:
        raise ConfigError(f"unknown activation '{name}'. Choose one of: {', '.join(_ACTIVATIONS)}.")
    return _ACTIVATIONS[name]()


def mlp(sizes: list[int], act: str, final_activation: bool) -> nn.Sequential:
    """Linear layers sizes[0] -> ... -> sizes[-1] with `act` between (and after the last if asked)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if final_activation or i < len(sizes) - 2:
            layers.append(activation(act))
    return nn.Sequential(*layers)
