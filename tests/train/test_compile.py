"""train.compile: a fused (torch.compile) training step that follows the eager run's random streams, resumes bit for
bit, runs under torchrun, and falls back to eager with a one-line note where the compiler cannot run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from markers import needs_compiler
from vaekit import resume, train

WORKER = Path(__file__).with_name("ddp_worker.py")


def _weights(run) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in run.model.state_dict().items()}


@needs_compiler
def test_a_compiled_run_is_close_to_eager_and_resumes_bit_for_bit(tmp_path: Path, tiny_config) -> None:
    tiny_config.data.binarize = "dynamic"  # noise in the data and in z: both from the run's generators
    tiny_config.train.epochs = 2
    eager = _weights(train(tiny_config, tmp_path / "eager"))
    tiny_config.train.compile = True
    full = _weights(train(tiny_config, tmp_path / "full"))
    for k in eager:  # the same draws, the same data: only the fused kernels' rounding differs
        torch.testing.assert_close(full[k], eager[k], rtol=1e-3, atol=1e-4)
    tiny_config.train.epochs = 1
    train(tiny_config, tmp_path / "cut")
    resumed = _weights(resume(tmp_path / "cut", epochs=2))
    assert all(torch.equal(full[k], resumed[k]) for k in full)


@needs_compiler
def test_a_compiled_step_under_torchrun_keeps_both_ranks_identical(tmp_path: Path, tiny_images) -> None:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", WORKER]
    r = subprocess.run(
        [*cmd, tiny_images, tmp_path, "train.compile=true"], capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr[-3000:]
    ranks = [load_file(tmp_path / f"rank{i}.safetensors") for i in (0, 1)]
    assert all(torch.equal(ranks[0][k], ranks[1][k]) for k in ranks[0])


def test_without_a_compiler_training_falls_back_to_eager_with_a_note(tmp_path: Path, tiny_images) -> None:
    code = (
        "import sys, torch._inductor.config as c; c.cpp.cxx = ('/nonexistent/c++',);"
        "from vaekit.cli.main import main; sys.exit(main(sys.argv[1:]))"
    )
    args = [f"data.source={tiny_images}", "model.latent_dim=2", "model.network.hidden=[8]", "train.epochs=1"]
    args += ["train.compile=true", "train.progress=false", "train.num_sample_images=4", "--out", str(tmp_path / "r")]
    r = subprocess.run([sys.executable, "-c", code, "train", *args], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    notes = [line for line in r.stderr.splitlines() if "torch.compile cannot run here" in line]
    assert len(notes) == 1 and "training eagerly" in notes[0]
    assert (tmp_path / "r" / "model.safetensors").is_file()
