"""Data-parallel training on PyTorch's own engine (torch.distributed + DistributedDataParallel).

Launch with torchrun (`torchrun --nproc_per_node N -m vaekit train ...`); torchrun sets RANK, WORLD_SIZE,
LOCAL_RANK and the rendezvous variables, and this module reads them. gloo on CPU, NCCL on GPU. Everything
distributed lives here: the rest of vaekit asks `ctx.world_size`, calls `all_reduce_sum` and `barrier`, and
writes files only where `ctx.is_main`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from vaekit.errors import ConfigError


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


SINGLE_PROCESS = DistContext()


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """`auto` -> cuda when available, else cpu; under torchrun each process takes cuda:LOCAL_RANK."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("train.device is 'cuda' but no CUDA device is available. Use train.device=cpu or auto.")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device(name)


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for train.precision: None for fp32; `auto` picks bf16 only where the hardware does
    bf16 matrix products natively (CUDA with bf16, or a CPU with AVX512-BF16 or AMX), else fp32."""
    if precision == "bf16":
        return torch.bfloat16
    if precision == "auto":
        if device.type == "cuda":
            native = torch.cuda.is_bf16_supported()
        else:
            probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # private; absent in older torch
            native = any(getattr(torch.cpu, name, lambda: False)() for name in probes)
        return torch.bfloat16 if native else None
    return None


def setup(device_name: str) -> tuple[DistContext, torch.device]:
    """Join the process group torchrun describes (if any) and choose this process's device, once per run.

    Also sets the process to flush denormal floats to zero (on CPUs that support it).
    """
    # Adam's second moments of rarely-updated weights drift into denormal floats, which the CPU handles
    # in microcode: flushing them to zero made late epochs of the iwae-paper run ~20% faster per step.
    torch.set_flush_denormal(True)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistContext(), resolve_device(device_name)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_name, local_rank)
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistContext(rank, world_size, local_rank), device


def teardown() -> None:
    """Leave the process group, if this process joined one (at the end of a command)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """The sum over processes (in place); the tensor itself when not distributed."""
    if ctx.enabled:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        dist.barrier()


def wrap(module: nn.Module, ctx: DistContext, device: torch.device) -> nn.Module:
    """DistributedDataParallel around `module` when distributed (gradients averaged across processes)."""
    if not ctx.enabled:
        return module
    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)


def shard(indices: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """This process's disjoint share of a permutation every process drew identically.

    The tail that does not divide evenly is dropped, so that every process takes the same number of steps;
    a fresh permutation each epoch drops different examples.
    """
    usable = indices.shape[0] - indices.shape[0] % ctx.world_size
    return indices[ctx.rank : usable : ctx.world_size]


def local_batch_size(global_batch: int, ctx: DistContext) -> int:
    if global_batch % ctx.world_size:
        raise ConfigError(
            f"train.batch_size ({global_batch}) is the global batch and must divide evenly among the "
            f"{ctx.world_size} processes. Use a multiple of {ctx.world_size}."
        )
    return global_batch // ctx.world_size


def seeded_generator(device: torch.device, *keys: int) -> torch.Generator:
    """A generator whose stream depends only on `keys` (e.g. seed + rank, epoch, purpose).

    Deriving each epoch's generators from (seed, epoch) means a resumed run, with any number of processes,
    needs no saved RNG state.
    """
    state = np.random.SeedSequence([int(k) for k in keys]).generate_state(2, dtype=np.uint32)
    return torch.Generator(device=device).manual_seed(int(state[0]) << 32 | int(state[1]))
