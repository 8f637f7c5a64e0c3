"""Refusing to overwrite: the Python API's errors name the keyword that overrides them, not only the CLI flag."""

import pytest

from tiny_configs import TINY_VQ_RUN
from vaekit import train, train_prior
from vaekit.config import load_config
from vaekit.errors import RunError
from vaekit.run import PRIOR, WEIGHTS


def test_training_into_an_existing_run_names_force_true_and_writes_nothing(tmp_path, tiny_config):
    train(tiny_config, tmp_path / "run")
    before = (tmp_path / "run" / WEIGHTS).read_bytes()
    with pytest.raises(RunError, match=r"already exists\. Pass --force \(force=True in Python\)") as info:
        train(tiny_config, tmp_path / "run")
    assert "vaekit.resume" in str(info.value)  # and the other way out
    assert (tmp_path / "run" / WEIGHTS).read_bytes() == before


def test_fitting_a_prior_again_names_force_true_and_resume_true(tmp_path, tiny_images):
    config = load_config(overrides=[f"data.source={tiny_images}", "train.epochs=1", *TINY_VQ_RUN, "prior.epochs=1"])
    train(config, tmp_path / "vq")
    train_prior(tmp_path / "vq")
    before = (tmp_path / "vq" / PRIOR).read_bytes()
    with pytest.raises(RunError, match=r"already has a trained prior .*force=True in Python.*resume=True"):
        train_prior(tmp_path / "vq")
    with pytest.raises(RunError, match=r"resume=True in Python.*force=True"):
        train_prior(tmp_path / "vq", resume=True, force=True)
    assert (tmp_path / "vq" / PRIOR).read_bytes() == before
