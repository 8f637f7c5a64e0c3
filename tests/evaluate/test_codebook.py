"""VQ-VAE evaluation: codebook usage on counts whose answer is known, and a consistent report."""

import math

import pytest
import torch

from tiny_configs import TINY_PRIOR, TINY_VQ
from vaekit.config import load_config
from vaekit.evaluate.by_model import evaluation_for
from vaekit.evaluate.codebook import codebook_usage, vq_report
from vaekit.models import build_code_prior, build_model

TINY = [*TINY_VQ, *TINY_PRIOR]


@pytest.mark.parametrize(
    "counts, perplexity, dead",
    [
        ([5, 5, 5, 5], 4.0, 0),  # every code equally often
        ([0, 9, 0, 0], 1.0, 3),  # one code takes everything
        ([2, 2, 0, 0], 2.0, 2),  # two codes, equally, two dead
    ],
)
def test_codebook_usage_on_known_counts(counts, perplexity, dead):
    usage = codebook_usage(torch.tensor(counts))
    assert usage["codebook_size"] == 4 and usage["dead_codes"] == dead
    assert usage["codebook_perplexity"] == pytest.approx(perplexity)


@pytest.mark.parametrize("with_prior", [False, True])
def test_report_is_consistent(with_prior):
    cfg = load_config(overrides=TINY)
    model = build_model(cfg.model, (1, 8, 8), seed=0)
    if with_prior:
        model.attach_prior(build_code_prior(cfg.prior, 6))
    x = torch.rand(10, 1, 8, 8, generator=torch.Generator().manual_seed(0)).round()
    report = vq_report(model, x, batch_size=4)
    assert report["prior"] == ("pixelcnn" if with_prior else "uniform")
    assert report["elbo"] == pytest.approx(report["reconstruction"] - report["prior_nll"])
    assert report["bits_per_dim"] == pytest.approx(-report["elbo"] / (64 * math.log(2)))
    codes = model.encode_codes(x)
    assert report["prior_nll"] == pytest.approx(-model.code_log_prob(codes).mean().item(), rel=1e-5)
    if not with_prior:
        assert report["prior_nll"] == pytest.approx(4 * math.log(6))  # 2x2 positions, 1/6 each
    counts = torch.bincount(codes.flatten(), minlength=6)
    assert report["dead_codes"] == int((counts == 0).sum()) and report["codebook_size"] == 6
    mse = (model.reconstruct(x) - x).pow(2).mean().item()
    assert report["reconstruction_mse"] == pytest.approx(mse, rel=1e-5)
    assert report["num_examples"] == 10
    assert set(evaluation_for("vqvae").summary) <= set(report)
