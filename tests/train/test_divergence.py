"""A diverging run: caught at the step, nothing non-finite written, the last good checkpoint kept."""

import hashlib

import pytest
import torch
import yaml
from safetensors.torch import load_file, save_file

from vaekit import load_run, resume, train
from vaekit.errors import RunError
from vaekit.run import CONFIG, METRICS, STATE, WEIGHTS
from vaekit.train.checkpoint import save_weights
from vaekit.train.loop import DivergedError


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_diverging_resume_keeps_the_last_good_epoch_on_disk(tmp_path, tiny_config):
    out = tmp_path / "run"
    train(tiny_config, out)
    before = {name: digest(out / name) for name in (WEIGHTS, STATE, METRICS)}
    config = yaml.safe_load((out / CONFIG).read_text())
    config["train"]["lr"] = 1e30  # Adam's first step moves every weight by ~1e30: the next loss overflows
    (out / CONFIG).write_text(yaml.safe_dump(config))
    with pytest.raises(DivergedError) as err:
        resume(out, epochs=4)
    # epochs 1-2 took 8 steps (108 images, batch 32); step 9 moves the weights to ~1e30, step 10's loss overflows
    assert "the loss was not finite at step 10 " in str(err.value)
    assert "keeps its last completed epoch" in str(err.value) and "1e+30" in str(err.value)
    assert {name: digest(out / name) for name in before} == before
    assert [m["epoch"] for m in load_run(out).metrics()] == [1, 2]


def test_a_run_that_diverges_in_its_first_epoch_writes_no_weights_of_that_epoch(tmp_path, tiny_config):
    tiny_config.train.lr = 1e30
    with pytest.raises(DivergedError, match="step"):
        train(tiny_config, tmp_path / "run")
    assert not (tmp_path / "run" / STATE).exists() and not (tmp_path / "run" / METRICS).exists()


def test_non_finite_weights_are_never_written_and_never_loaded(tmp_path, tiny_config):
    out = tmp_path / "run"
    run = train(tiny_config, out)
    good = digest(out / WEIGHTS)
    with torch.no_grad():
        next(run.model.parameters())[0] = float("nan")
    with pytest.raises(RunError, match="not finite"):
        save_weights(out / WEIGHTS, run.model)
    assert digest(out / WEIGHTS) == good
    state = load_file(str(out / WEIGHTS))
    name = next(iter(state))
    state[name] = torch.full_like(state[name], float("inf"))
    save_file(state, str(out / WEIGHTS), metadata={"format": "vaekit-1", "data_shape": "[1, 8, 8]"})
    with pytest.raises(RunError, match="non-finite"):
        load_run(out)
