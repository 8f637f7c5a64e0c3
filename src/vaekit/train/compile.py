"""Fusing the training step with torch.compile (train.compile), and falling back to eager where it cannot run.

What is compiled is the loss module (model + objective: DDP's forward under torchrun), so the loss and its backward
are fused by TorchInductor into a few C++ kernels per graph; the optimizer is already one fused kernel (Adam
fused=True). The random draws stay outside the graphs (they take the run's explicit generators, which TorchDynamo
does not trace): dynamo splits the step there, so the noise, and with it every number of a run, follows the same
seeded streams as in eager mode, and a resumed compiled run continues bit for bit.

Compiling costs tens of seconds on a small CPU, once per process; docs/benchmarks.md says after how many steps it
pays back. Where TorchInductor cannot build (no C++ compiler, an unsupported platform), `compiled` returns the
module unchanged and tells the caller why, which words the one-line note (the training step: "training eagerly").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch

F = TypeVar("F", bound=Callable)
_probe_result: str | None = None  # "" when a probe compile worked; else why not (checked once per process)


def compile_unavailable() -> str:
    """Why torch.compile cannot run here ("" when it can): a tiny function compiled and run once per process."""
    global _probe_result
    if _probe_result is None:
        try:
            fn = torch.compile(lambda t: torch.sigmoid(t) * 2 + 1, dynamic=False)
            ok = torch.allclose(fn(torch.zeros(3)), torch.full((3,), 2.0))
            _probe_result = "" if ok else "a probe compiled to a wrong result"
        except Exception as err:  # noqa: BLE001 (any failure of the toolchain means: run eager)
            _probe_result = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:300]
    return _probe_result


def compiled(fn: F, on_fallback: Callable[[str], None] | None = None, **options) -> F:
    """`fn` (a module or a function) compiled with torch.compile(fn, **options), or `fn` unchanged where it cannot
    be, after calling `on_fallback` with why (the caller words its own one-line note)."""
    why = compile_unavailable()
    if why:
        if on_fallback:
            on_fallback(why)
        return fn
    return torch.compile(fn, **options)
