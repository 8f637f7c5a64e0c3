"""Data-parallel training with torchrun: two CPU processes over gloo."""

import subprocess
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file

from vaekit import load_run, resume
from vaekit.config import load_config
from vaekit.models import build_model

WORKER = Path(__file__).with_name("ddp_worker.py")
FAST = ["model.latent_dim=2", "model.network.hidden=[16]", "train.batch_size=32", "train.num_sample_images=4"]


def torchrun(*args, cwd):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *map(str, args)]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_after_one_step_both_ranks_hold_identical_parameters(tmp_path, tiny_images):
    r = torchrun(WORKER, tiny_images, tmp_path, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    ranks = [load_file(tmp_path / f"rank{i}.safetensors") for i in (0, 1)]
    for i in (0, 1):
        with safe_open(str(tmp_path / f"rank{i}.safetensors"), "pt") as f:
            assert f.metadata() == {"moved": "True", "world": "2"}  # a real step, in a real 2-process group
    assert ranks[0].keys() == ranks[1].keys()
    for name in ranks[0]:
        assert torch.equal(ranks[0][name], ranks[1][name]), name


def test_vq_run_keeps_identical_ema_codebooks_on_both_ranks_after_a_step(tmp_path, tiny_images):
    vq = ["model.type=vqvae", "objective.name=vq", "model.vq.num_codes=8", "model.vq.embedding_dim=4"]
    vq += ["model.vq.hidden_channels=8", "model.vq.num_residual_blocks=1", "model.vq.ema=true"]
    vq += ["objective.revive_every=1", "data.binarize=static"]  # a revival in the step: rank 0's choice is shared
    r = torchrun(WORKER, tiny_images, tmp_path, *vq, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    ranks = [load_file(tmp_path / f"rank{i}.safetensors") for i in (0, 1)]
    config = load_config(overrides=[f"data.source={tiny_images}", *vq])
    initial = build_model(config.model, (1, 8, 8), seed=config.train.seed).state_dict()
    for name in ("codebook", "cluster_size", "embed_sum", "code_usage"):  # EMA statistics moved ...
        assert not torch.equal(ranks[0][f"quantizer.{name}"], initial[f"quantizer.{name}"]), name
    for name in ranks[0]:  # ... identically on both ranks, though each saw its own half of the batch
        assert torch.equal(ranks[0][name], ranks[1][name]), name


def test_torchrun_train_writes_a_run_that_loads_and_resumes_in_one_process(tmp_path, tiny_images):
    out = tmp_path / "run"
    r = torchrun("-m", "vaekit", "train", "--data", tiny_images, "--epochs", 1, "--out", out, *FAST, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stderr.count("epoch 1/1") == 1  # only the main process logs
    run = load_run(out)
    assert [m["epoch"] for m in run.metrics()] == [1]
    assert run.metrics()[0]["step"] == 4  # 108 train examples: 54 per process in batches of 16 (the global 32 / 2)
    resumed = resume(out, epochs=2)  # one process continues what two began
    assert [m["epoch"] for m in resumed.metrics()] == [1, 2]
    assert resumed.metrics()[1]["step"] == 4 + 4  # one process: 108 examples in batches of 32
