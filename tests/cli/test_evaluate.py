"""`vaekit evaluate`: the JSON report's keys, units and consistency."""

import json
import math

from vaekit.cli.main import main

KEYS = {
    "elbo",
    "log_likelihood",
    "elbo_gap",
    "reconstruction",
    "kl",
    "bits_per_dim",
    "kl_per_dim",
    "active_units",
    "num_examples",
    "iw_samples",
    "seconds",
}


def test_evaluate_writes_a_consistent_report(tmp_path, tiny_images, capsys):
    run = tmp_path / "run"
    args = ["model.latent_dim=3", "model.network.hidden=[16]", "train.progress=false", "data.binarize=dynamic"]
    assert main(["train", "--data", str(tiny_images), "--epochs", "2", "--out", str(run), *args]) == 0
    out = tmp_path / "r.json"
    code = main(["evaluate", str(run), "--limit", "10", "--iw-samples", "200", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "log_likelihood" in printed and "elbo_gap" in printed
    report = json.loads(out.read_text())
    assert KEYS <= set(report)
    assert report["num_examples"] == 10 and report["iw_samples"] == 200
    assert report["elbo_gap"] == report["log_likelihood"] - report["elbo"]
    assert report["elbo_gap"] > 0  # IW_200 vs a one-sample ELBO on 10 examples: not a close call
    assert report["elbo"] < 0 and report["log_likelihood"] < 0  # Bernoulli probabilities: log p(x) < 0
    assert math.isclose(report["bits_per_dim"], -report["log_likelihood"] / (64 * math.log(2)))
    assert len(report["kl_per_dim"]) == 3 and math.isclose(sum(report["kl_per_dim"]), report["kl"], rel_tol=1e-6)
    assert 0 <= report["active_units"] <= 3
    # the same seed gives the same report
    again = tmp_path / "again.json"
    main(["evaluate", str(run), "--limit", "10", "--iw-samples", "200", "--out", str(again)])
    second = json.loads(again.read_text())
    assert second["log_likelihood"] == report["log_likelihood"]


def test_evaluate_refuses_bad_arguments(tmp_path, tiny_images, capsys):
    run = tmp_path / "run"
    main(["train", "--data", str(tiny_images), "--epochs", "1", "--out", str(run), "train.progress=false"])
    assert main(["evaluate", str(run), "--iw-samples", "0"]) == 2
    assert "--iw-samples" in capsys.readouterr().err
    assert main(["evaluate", str(run), "--limit", "0"]) == 2
    assert main(["evaluate", str(run), "--out", str(tmp_path / "r.txt")]) == 2
