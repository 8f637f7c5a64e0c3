"""Nothing lost, nothing half-written: the run lock across real processes, a file-size limit mid-checkpoint, and
what a kill leaves behind (a torn metrics line, stray temporary files, a first epoch never finished)."""

from __future__ import annotations

import hashlib
import os
import resource
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from vaekit import load_run, resume, train
from vaekit.atomic import WriteError, append_line, atomic_write
from vaekit.run import CONFIG, METRICS, SAMPLES, STATE, WEIGHTS

VAEKIT = [sys.executable, "-m", "vaekit"]


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def weights(path) -> dict[str, torch.Tensor]:
    return load_file(str(path / WEIGHTS))


def same_weights(a, b) -> bool:
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_a_second_process_cannot_write_into_a_locked_run_and_a_killed_holder_leaves_no_stale_lock(
    tmp_path, tiny_config
):
    out = tmp_path / "run"
    train(tiny_config, out)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from vaekit.lock import RunLock; RunLock(sys.argv[1]).__enter__(); "
            "print('locked', flush=True); time.sleep(120)",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = {name: digest(out / name) for name in (WEIGHTS, STATE, METRICS, CONFIG)}
        second = subprocess.run([*VAEKIT, "train", "--out", str(out), "--resume", "--epochs", "3"], capture_output=True)
        assert second.returncode == 2, second.stderr
        assert f"in use by process {holder.pid}" in second.stderr.decode()
        assert {name: digest(out / name) for name in before} == before
    finally:
        holder.kill()  # SIGKILL: no chance to unlock; the kernel releases the lock
        holder.wait()
    third = subprocess.run([*VAEKIT, "train", "--out", str(out), "--resume", "--epochs", "3"], capture_output=True)
    assert third.returncode == 0, third.stderr
    assert [m["epoch"] for m in load_run(out).metrics()] == [1, 2, 3]


@pytest.fixture
def two_and_three_epochs(tmp_path, tiny_config):
    """A run of 2 epochs to damage and continue, and the uninterrupted run of 3 epochs it must end up equal to."""
    out, reference = tmp_path / "run", tmp_path / "reference"
    train(tiny_config, out)
    tiny_config.train.epochs = 3
    train(tiny_config, reference)
    return out, reference


def test_a_file_size_limit_mid_checkpoint_is_a_clear_error_and_resume_loses_nothing(two_and_three_epochs):
    out, reference = two_and_three_epochs
    state_before = digest(out / STATE)
    limit = (out / WEIGHTS).stat().st_size // 2  # below the weights file, above config.yaml and a metrics line
    assert (out / CONFIG).stat().st_size < limit

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    cut = subprocess.run(
        [*VAEKIT, "train", "--out", str(out), "--resume", "--epochs", "3"], capture_output=True, preexec_fn=limited
    )
    err = cut.stderr.decode()
    assert cut.returncode == 2 and "Traceback" not in err, err
    assert f"could not write '{out / WEIGHTS}'" in err and "file-size limit" in err
    assert digest(out / STATE) == state_before  # the last good checkpoint is intact
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    resume(out, epochs=3)  # the half-finished epoch 3 is done again from the state of epoch 2
    assert same_weights(out, reference)
    assert [m["epoch"] for m in load_run(out).metrics()] == [1, 2, 3]


def test_a_torn_metrics_line_and_stray_temporary_files_are_repaired_at_the_next_start(two_and_three_epochs):
    out, reference = two_and_three_epochs
    append_line(out / METRICS, '{"epoch": 3, "step": 1')  # a kill in the middle of an append
    stray = out / f".{WEIGHTS}.abc123.tmp"
    stray.write_bytes(b"half a checkpoint")
    assert [m["epoch"] for m in load_run(out).metrics()] == [1, 2]  # readers skip the torn line
    resume(out, epochs=3)
    assert not stray.exists()
    lines = (out / METRICS).read_text().splitlines()
    assert len(lines) == 3 and all(line.endswith("}") for line in lines)
    assert same_weights(out, reference)


def test_a_run_killed_in_its_first_epoch_holds_no_weights_and_resume_starts_it_again(tmp_path, tiny_config):
    out, reference = tmp_path / "run", tmp_path / "reference"
    train(tiny_config, reference)
    train(tiny_config, out)
    for name in (WEIGHTS, STATE, METRICS, SAMPLES):  # what a kill during epoch 1 leaves: config.yaml alone
        (out / name).unlink()
    with pytest.raises(Exception, match="has not finished its first epoch"):
        load_run(out)
    resume(out)
    assert same_weights(out, reference)


def test_a_failed_write_names_the_file_and_keeps_the_previous_one(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")

    def full_disk(tmp):
        raise OSError(28, os.strerror(28))  # ENOSPC

    with pytest.raises(WriteError, match="disk is full") as err:
        atomic_write(path, full_disk)
    assert str(path) in str(err.value)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["f.bin"]
