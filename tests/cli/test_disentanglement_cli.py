"""`vaekit evaluate --disentanglement` and `vaekit traverse` end to end on a tiny shapes run; bad inputs exit 2."""

import json

import pytest
from PIL import Image

from vaekit.cli.main import main

TINY_CONV = [
    "model.latent_dim=3",
    "model.network.type=conv",
    "model.network.channels=[4,8]",
    "model.network.hidden=[16]",
    "train.progress=false",
    "train.num_sample_images=4",
]
METRICS = ("mig", "factorvae_score", "beta_vae_score", "dci_disentanglement")


@pytest.fixture(scope="module")
def shapes_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("shapes") / "run"
    assert main(["train", "--data", "shapes:300", "--epochs", "1", "--out", str(run), *TINY_CONV]) == 0
    return run


def cli(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_evaluate_disentanglement_writes_the_four_scores_and_reconstruction(shapes_run, tmp_path, capsys):
    out = tmp_path / "scores.json"
    budget = ["--num-train", "200", "--num-eval", "100"]
    code, printed, _ = cli(capsys, "evaluate", shapes_run, "--disentanglement", *budget, "--out", out)
    assert code == 0
    report = json.loads(out.read_text())
    for key in METRICS:
        assert 0.0 <= report[key] <= 1.0, key
        assert key in printed
    assert report["reconstruction"] < 0 and report["kl"] >= 0  # Bernoulli: log p(x|z) < 0
    assert report["elbo"] == pytest.approx(report["reconstruction"] - report["kl"])
    assert len(report["kl_per_dim"]) == 3 and report["num_examples"] == 30  # the 10% test split of 300
    assert report["factors"] == ["shape", "scale", "orientation", "pos_x", "pos_y"]
    assert report["dci_model"] == "boosting"  # disentanglement_lib's classifier, unless --dci-model forest
    again = tmp_path / "again.json"
    assert cli(capsys, "evaluate", shapes_run, "--disentanglement", *budget, "--out", again)[0] == 0
    assert {k: json.loads(again.read_text())[k] for k in METRICS} == {k: report[k] for k in METRICS}  # seeded


def test_evaluate_disentanglement_refuses_data_without_factors(tmp_path, tiny_images, capsys):
    run = tmp_path / "run"
    assert main(["train", "--data", str(tiny_images), "--epochs", "1", "--out", str(run), *TINY_CONV[:1]]) == 0
    code, _, err = cli(capsys, "evaluate", run, "--disentanglement", "--out", tmp_path / "s.json")
    assert code == 2 and "factors" in err and "shapes" in err
    assert not (tmp_path / "s.json").exists()


def test_evaluate_disentanglement_refuses_a_tiny_budget(shapes_run, capsys):
    code, _, err = cli(capsys, "evaluate", shapes_run, "--disentanglement", "--num-train", "5")
    assert code == 2 and "--num-train" in err


def test_traverse_writes_the_grid_and_the_kl_chart(shapes_run, tmp_path, capsys):
    out = tmp_path / "trav.png"
    code, printed, _ = cli(capsys, "traverse", shapes_run, "--dims", "0", "2", "--steps", "5", "--out", out)
    assert code == 0
    with Image.open(out) as image:  # 2 rows x 5 columns of 64x64 images, 2-pixel gutters
        assert image.size == (5 * 66 + 2, 2 * 66 + 2)
    with Image.open(tmp_path / "trav_kl.png") as chart:
        assert chart.size == (400, 300)
    assert "z0" in printed and "z2" in printed and "z1:" not in printed
    last = printed.strip().splitlines()[-1]
    assert last == f"wrote traversals of 2 dimensions x 5 values (1x64x64) to {out} and the KL per dimension to " + str(
        tmp_path / "trav_kl.png"
    )


def test_traverse_takes_other_data_and_a_kl_path(shapes_run, tmp_path, capsys):
    out, kl_out = tmp_path / "t.png", tmp_path / "kl.png"
    args = ["--data", "shapes:40", "--index", "3", "--steps", "3", "--range", "1.5", "--kl-out", kl_out]
    assert cli(capsys, "traverse", shapes_run, *args, "--out", out)[0] == 0
    with Image.open(out) as image:
        assert image.size == (3 * 66 + 2, 3 * 66 + 2)  # all 3 dimensions
    assert kl_out.exists() and not (tmp_path / "t_kl.png").exists()


@pytest.mark.parametrize(
    "args, words",
    [
        (["--dims", "3"], ["--dims", "0..2"]),
        (["--dims", "1", "1"], ["--dims", "distinct"]),
        (["--steps", "1"], ["--steps"]),
        (["--range", "0"], ["--range"]),
        (["--index", "1000"], ["--index", "out of range"]),
        (["--data", "digits"], ["shape"]),
    ],
)
def test_traverse_bad_inputs_exit_2_with_a_clear_message(shapes_run, tmp_path, capsys, args, words):
    out = tmp_path / "t.png"
    code, _, err = cli(capsys, "traverse", shapes_run, *args, "--out", out)
    assert code == 2
    for word in words:
        assert word in err
    assert not out.exists()


def test_traverse_refuses_a_non_png_output(shapes_run, tmp_path, capsys):
    code, _, err = cli(capsys, "traverse", shapes_run, "--out", tmp_path / "t.jpg")
    assert code == 2 and ".png" in err
