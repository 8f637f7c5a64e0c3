"""Refusals that need no data come before the data are read (a data set can take minutes to load): an existing or
locked run directory, a run whose epochs are all done. Each case deletes the run's data file first, so a command
that read the data before refusing would fail with a data error instead, and print the load summary."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vaekit.cli.main import main
from vaekit.run import CONFIG, WEIGHTS
from vaekit.workflow.training import train


@pytest.fixture
def run_without_its_data(tmp_path, tiny_config, tiny_images):
    """A trained 2-epoch run whose data file is gone, and the config that trained it."""
    out = tmp_path / "run"
    train(tiny_config, out)
    tiny_images.unlink()
    return out


def refusal(args: list[str], capsys) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "data: " not in err  # no load summary: nothing was loaded
    return err


def test_train_into_an_existing_run_is_refused_before_loading(run_without_its_data, tiny_images, capsys):
    err = refusal(["train", f"data.source={tiny_images}", "--out", str(run_without_its_data)], capsys)
    assert "already exists" in err


def test_train_with_a_bad_config_is_refused_before_loading(tmp_path, tiny_config, tiny_images):
    from vaekit.errors import ConfigError

    tiny_images.unlink()
    tiny_config.train.lr = -1.0  # set after load_config: only train's own check can catch it
    with pytest.raises(ConfigError, match="train.lr"):
        train(tiny_config, tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_resume_of_a_run_with_all_its_epochs_done_is_refused_before_loading(run_without_its_data, capsys):
    err = refusal(["train", "--out", str(run_without_its_data), "--resume", "--epochs", "2"], capsys)
    assert "already trained 2 epochs" in err and "--epochs 12" in err


@pytest.mark.parametrize("command", [["--resume", "--epochs", "3"], ["--force"]])
def test_a_locked_run_is_refused_before_loading(run_without_its_data, tiny_images, command):
    out = run_without_its_data
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from vaekit.lock import RunLock; RunLock(sys.argv[1]).__enter__(); "
            "print('locked', flush=True); time.sleep(60)",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = {name: (out / name).read_bytes() for name in (CONFIG, WEIGHTS)}
        data = [] if "--resume" in command else [f"data.source={tiny_images}"]
        args = [sys.executable, "-m", "vaekit", "train", *data, "--out", str(out), *command]
        second = subprocess.run(args, capture_output=True, text=True)
        assert second.returncode == 2, second.stderr
        assert f"in use by process {holder.pid}" in second.stderr and "data: " not in second.stderr
        assert {name: (out / name).read_bytes() for name in before} == before
    finally:
        holder.kill()
        holder.wait()


def test_a_free_lock_file_is_left_as_it_was(run_without_its_data, tiny_images, capsys):
    """The look at the lock before loading neither takes the lock nor rewrites the file (only the writer does)."""
    from vaekit.lock import LOCK_FILE

    lock = run_without_its_data / LOCK_FILE
    lock.write_text("process 1")
    refusal(["train", f"data.source={tiny_images}", "--out", str(run_without_its_data)], capsys)
    assert lock.read_text() == "process 1"
