"""Run under torchrun by test_stream.py: one epoch on streamed data; each rank saves the images it trained on.

torchrun --standalone --nproc_per_node 2 tests/train/stream_worker.py IMAGE_FOLDER CACHE_DIR OUT_DIR
"""

import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

import vaekit
from vaekit.data.stream import DiskImages
from vaekit.train.distributed import seeded_generator
from vaekit.train.loop import train_epoch
from vaekit.workflow.training import prepare

folder, cache, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
config = vaekit.load_config(
    overrides=[
        f"data.source={folder}",
        "data.stream=true",
        f"data.cache_dir={cache}",
        "train.progress=false",
        "model.latent_dim=2",
        "model.network.hidden=[8]",
        "train.batch_size=8",
    ]
)
p = prepare(config)  # rank 0 and rank 1 race to build the cache: each builds into its own temporary folder
assert isinstance(p.data.train_x, DiskImages), p.data.train_x
seen = []


def record(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    seen.append(x.clone())  # the uint8 rows this process read from disk
    return p.stage.transform(x, generator)


train_epoch(
    p.stage.loss_module,
    p.stage.optimizer,
    p.data.train_x,
    batch_size=p.stage.batch_size,
    step=0,
    shuffle_generator=seeded_generator(p.device, 0, 1, 0),
    generator=seeded_generator(p.device, p.ctx.rank, 1, 1),
    transform=record,
    progress=False,
    ctx=p.ctx,
)
np.save(out / f"rank{p.ctx.rank}.npy", torch.cat(seen).numpy())
dist.destroy_process_group()
# Leave without the interpreter's teardown: now and then a worker aborted there ("terminate called without an active
# exception", a C++ thread still joinable at exit) after everything was written, failing the test for nothing.
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
