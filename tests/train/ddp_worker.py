"""Run under torchrun by test_distributed.py: one optimizer step, then each rank saves its parameters.

torchrun --standalone --nproc_per_node 2 tests/train/ddp_worker.py DATA.npy OUT_DIR [key.sub=value ...]
"""

import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import save_file

import vaekit
from vaekit.train.distributed import seeded_generator
from vaekit.train.loop import train_epoch
from vaekit.workflow.training import prepare

data, out, extra = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
# a VQ-VAE is sized by model.vq: it takes no model.latent_dim or model.network
tiny_vae = [] if "model.type=vqvae" in extra else ["model.latent_dim=2", "model.network.hidden=[16]"]
config = vaekit.load_config(overrides=[f"data.source={data}", *tiny_vae, "train.batch_size=32", *extra])
p = prepare(config)
rank = p.ctx.rank
before = {k: v.clone() for k, v in p.model.state_dict().items()}
result = train_epoch(
    p.stage.loss_module,
    p.stage.optimizer,
    p.data.train_x[:32],  # one global batch: one step on each of the two processes
    batch_size=p.stage.batch_size,
    step=0,
    shuffle_generator=seeded_generator(p.device, 0, 1, 0),
    generator=seeded_generator(p.device, rank, 1, 1),  # different noise on each process
    transform=p.stage.transform,  # uint8 codes -> float32, as in training
    progress=False,
    ctx=p.ctx,
)
assert result.steps == 1, result.steps
moved = any(not torch.equal(before[k], v) for k, v in p.model.state_dict().items())
state = {k: v.contiguous() for k, v in p.model.state_dict().items()}
save_file(state, str(out / f"rank{rank}.safetensors"), metadata={"moved": str(moved), "world": str(p.ctx.world_size)})
dist.destroy_process_group()
# Leave without the interpreter's teardown: now and then a worker aborted there ("terminate called without an active
# exception", a C++ thread still joinable at exit) after everything was written, failing the test for nothing.
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
