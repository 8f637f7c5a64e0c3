"""Checkpoints: round trips without pickle, atomic writes, corrupt files rejected."""

import pytest
import torch

from vaekit.errors import RunError
from vaekit.models import build_model
from vaekit.train.checkpoint import load_tree, load_weights, save_tree, save_weights


def test_tree_round_trip_keeps_tensors_ints_and_nesting(tmp_path):
    tree = {
        "optimizer": {
            "state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.randn(2, 3)}},
            "groups": [{"lr": 1e-3}],
        },
        "generator": torch.Generator().manual_seed(5).get_state(),
        "epoch": 7,
        "name": "x",
        "none": None,
    }
    save_tree(tmp_path / "s.safetensors", tree)
    back = load_tree(tmp_path / "s.safetensors")
    assert back["epoch"] == 7 and back["name"] == "x" and back["none"] is None
    assert list(back["optimizer"]["state"]) == [0]  # int keys stay ints
    assert torch.equal(back["optimizer"]["state"][0]["exp_avg"], tree["optimizer"]["state"][0]["exp_avg"])
    assert torch.equal(back["generator"], tree["generator"])


def test_weights_round_trip_gives_identical_outputs(tmp_path, tiny_model_config):
    model = build_model(tiny_model_config, (1, 4, 4), seed=1)
    save_weights(tmp_path / "m.safetensors", model, {"data_shape": "[1, 4, 4]"})
    other = build_model(tiny_model_config, (1, 4, 4), seed=2)
    x = torch.rand(5, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(model.encode(x), other.encode(x))
    load_weights(tmp_path / "m.safetensors", other)
    assert torch.equal(model.encode(x), other.encode(x))
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(model.decode(z), other.decode(z))


def test_truncated_or_foreign_files_raise_run_error(tmp_path, tiny_model_config):
    model = build_model(tiny_model_config, (1, 4, 4))
    path = tmp_path / "m.safetensors"
    save_weights(path, model)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(RunError, match="corrupt or truncated"):
        load_weights(path, model)
    pickle_file = tmp_path / "state.safetensors"
    torch.save({"a": 1}, pickle_file)  # a pickle: must be refused, never unpickled
    with pytest.raises(RunError):
        load_tree(pickle_file)


def test_weights_of_another_architecture_are_refused(tmp_path, tiny_model_config):
    save_weights(tmp_path / "m.safetensors", build_model(tiny_model_config, (1, 4, 4)))
    tiny_model_config.network.hidden = [8]
    with pytest.raises(RunError, match="does not match"):
        load_weights(tmp_path / "m.safetensors", build_model(tiny_model_config, (1, 4, 4)))
